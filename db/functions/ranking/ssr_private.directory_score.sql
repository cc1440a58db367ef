-- directory_score: a workshop's directory score from its stars: the Bayesian (shrunk) rating
-- (C * prior + rating_sum) / (C + review_count), rounded to 6 decimals, with the prior and C
-- of ranking_platform's snapshot (directory_prior, directory_strength; NULL: 4.0 and 20, the
-- constants before this release, so a database where nobody refreshed the snapshot ranks as
-- before). C + review_count = 0 (C = 0, no review): the prior. No errors.
CREATE OR REPLACE FUNCTION ssr_private.directory_score(p_rating_sum bigint, p_review_count bigint)
RETURNS numeric
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
    ),
    6
)
FROM (SELECT 1) AS one
LEFT JOIN ranking_platform AS p ON p.id
$$;

COMMENT ON FUNCTION ssr_private.directory_score(bigint, bigint) IS
'A workshop''s directory score: its rating shrunk toward the platform mean snapshot, 6 decimals.';
