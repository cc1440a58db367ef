-- ssr_private.experiment_hist_percentile: percentile_cont(fraction) over a mergeable
-- histogram (bucket values and their counts, as analytics_bucket makes them), each bucket
-- taken n times, without expanding it: the 0-based position fraction * (total - 1), the
-- values at its floor and ceiling ranks, interpolated. NULL for an empty histogram. No errors.
CREATE OR REPLACE FUNCTION ssr_private.experiment_hist_percentile(
    p_buckets double precision[],
    p_counts integer[],
    p_fraction double precision
) RETURNS double precision
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
WITH b AS (
    SELECT u.v, sum(u.n) OVER (ORDER BY u.v) AS upto, sum(u.n) OVER () AS total
    FROM unnest(p_buckets, p_counts) AS u (v, n)
    WHERE u.n > 0
),

p AS (SELECT p_fraction * (max(b.total) - 1)::double precision AS pos FROM b)

SELECT x.lo + (x.pos - floor(x.pos)) * (x.hi - x.lo)
FROM (
    SELECT
        min(b.v) FILTER (WHERE b.upto > floor(p.pos)) AS lo,
        min(b.v) FILTER (WHERE b.upto > ceil(p.pos)) AS hi,
        min(p.pos) AS pos
    FROM b CROSS JOIN p
) AS x
$$;

COMMENT ON FUNCTION ssr_private.experiment_hist_percentile(double precision[], integer[], double precision) IS
'percentile_cont over a bucketed histogram (values and counts), as over the values one by one.';
