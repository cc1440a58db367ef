-- ssr:no-transaction
-- ssr:after-objects
-- 0154: the directory pages by workshop_stats.directory_score (0153) once its trigger exists:
-- every row scored (with the snapshot of the prior as it stands: 4.0 and C = 20 until the job
-- ranking moves it, which is the order before this release), then the directory's index
-- workshop_stats_directory_idx built again on the stored score instead of the fixed-prior
-- expression: the old one dropped, the new one built, both CONCURRENTLY (writers go on; in
-- between, a few seconds on a large list, pages sort the listed workshops instead of walking
-- the index). Safe to run again.
UPDATE workshop_stats SET directory_score = NULL WHERE directory_score IS NULL;

DROP INDEX CONCURRENTLY IF EXISTS workshop_stats_directory_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS workshop_stats_directory_idx
ON workshop_stats (directory_score DESC, available_mechanics DESC, sessions_served DESC, workshop_id ASC)
WHERE available_mechanics > 0;
