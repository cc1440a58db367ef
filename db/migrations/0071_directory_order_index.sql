-- ssr:no-transaction
-- 0071: the directory's order as an index, built CONCURRENTLY (writers of workshop_stats
-- keep writing; safe to run again). The key is exactly the ranking of
-- get_workshop_directory (the score expression written the same way, then the
-- tie-breakers), partial on the workshops that can be listed, so a page reads about
-- `limit` index entries from its cursor instead of scoring and sorting the whole list.
-- The function and ssr_private.workshop_directory_listing must keep the expression
-- character for character (tests/test_directory.py checks the plan uses this index).

CREATE INDEX CONCURRENTLY IF NOT EXISTS workshop_stats_directory_idx
ON workshop_stats (
    (round((20 * 4.0 + rating_sum) / (20 + review_count), 6)) DESC,
    available_mechanics DESC,
    sessions_served DESC,
    workshop_id ASC
)
WHERE available_mechanics > 0;
