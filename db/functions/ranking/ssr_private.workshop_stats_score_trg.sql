-- workshop_stats_score_trg: BEFORE INSERT or UPDATE of the stars or the reliability on
-- workshop_stats: sets directory_score from the row's rating_sum, review_count and
-- reliability (ssr_private.directory_score),
-- so every path that moves the stars (the review triggers, the rebuild, a DBA) keeps the
-- directory's order true. No errors.
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_score_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    NEW.directory_score := ssr_private.directory_score(NEW.rating_sum, NEW.review_count, NEW.reliability);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION ssr_private.workshop_stats_score_trg() IS
'Trigger: a workshop''s directory score follows its stars.';
