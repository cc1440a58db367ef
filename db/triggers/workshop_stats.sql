-- Every trigger on workshop_stats, in firing order (BEFORE, then AFTER; by name within each).

-- The directory pages by a stored score: a row made, or its stars changed, gets its score in the same write.
CREATE OR REPLACE TRIGGER workshop_stats_score_ins
BEFORE INSERT ON workshop_stats
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_score_trg();

-- The directory pages by a stored score: stars (a review, the rebuild) or reliability (the job) moved move the score.
CREATE OR REPLACE TRIGGER workshop_stats_score_upd
BEFORE UPDATE ON workshop_stats
FOR EACH ROW
WHEN (
    old.rating_sum IS DISTINCT FROM new.rating_sum
    OR old.review_count IS DISTINCT FROM new.review_count
    OR old.reliability IS DISTINCT FROM new.reliability
    OR new.directory_score IS NULL
)
EXECUTE FUNCTION ssr_private.workshop_stats_score_trg();
