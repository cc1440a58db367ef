-- analytics_bucket: the fixed bucket of a time to accept, in seconds, for the mergeable
-- histograms of analytics_workshop_rollup. Input: seconds (NULL gives NULL); no errors.
-- The value rounded to 3 significant digits (12.345 -> 12.3, 1234.5 -> 1230, 0.01234 ->
-- 0.0123): at most 0.5 % from the true value, so a percentile over the buckets is within
-- 0.5 % of the exact one; whole seconds below 1000 are their own bucket. 0 and negative
-- values (clock skew) are bucket 0.
CREATE OR REPLACE FUNCTION ssr_private.analytics_bucket(p_seconds double precision)
RETURNS double precision
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    -- In double precision (a numeric log costs ~35 us a call): scale to 3 integer digits,
    -- round, scale back by an exact power of ten (dividing two exact numbers rounds
    -- correctly, so 12.3 is the same double as the literal 12.3).
    SELECT CASE
        WHEN p_seconds IS NULL THEN NULL
        WHEN p_seconds <= 0 THEN 0::double precision
        WHEN floor(log(p_seconds)) >= 2
            THEN round(p_seconds / 10 ^ (floor(log(p_seconds)) - 2)) * 10 ^ (floor(log(p_seconds)) - 2)
        ELSE round(p_seconds * 10 ^ (2 - floor(log(p_seconds)))) / 10 ^ (2 - floor(log(p_seconds)))
    END
$$;

COMMENT ON FUNCTION ssr_private.analytics_bucket(double precision) IS
'Histogram bucket of a time to accept: the seconds rounded to 3 significant digits (at most 0.5 % off).';
