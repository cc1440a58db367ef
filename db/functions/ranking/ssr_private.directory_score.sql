-- directory_score: a workshop's directory score from its stars and its mechanics' reliability:
--     round((C * prior + rating_sum) / (C + review_count) - weight * (1 - reliability), 6)
-- the Bayesian (shrunk) rating, less up to `weight` stars for unreliable mechanics
-- (reliability NULL: no deduction), with the prior, C and the weight of ranking_platform's
-- snapshot (directory_prior, directory_strength, directory_weight; NULL: 4.0, 20 and 0, the
-- constants before this release, so a database where nobody refreshed the snapshot ranks as
-- before). C + review_count = 0 (C = 0, no review): the prior. No errors.
-- (DROP first: the two-argument version, without reliability, would make calls ambiguous.)
DROP FUNCTION IF EXISTS ssr_private.directory_score(bigint, bigint);

CREATE OR REPLACE FUNCTION ssr_private.directory_score(
    p_rating_sum bigint,
    p_review_count bigint,
    p_reliability double precision DEFAULT NULL
) RETURNS numeric
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
SELECT round(
    coalesce(
        (coalesce(p.directory_strength, 20) * coalesce(p.directory_prior, 4.0) + p_rating_sum)
        / nullif(coalesce(p.directory_strength, 20) + p_review_count, 0),
        coalesce(p.directory_prior, 4.0)
    )
    - coalesce(p.directory_weight, 0) * (1 - coalesce(p_reliability, 1))::numeric,
    6
)
FROM (SELECT 1) AS one
LEFT JOIN ranking_platform AS p ON p.id
$$;

COMMENT ON FUNCTION ssr_private.directory_score(bigint, bigint, double precision) IS
'A workshop''s directory score: its rating shrunk toward the platform mean snapshot, less the reliability term.';
