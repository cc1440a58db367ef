-- 0153: the directory ranks workshops by their rating shrunk toward the platform's mean
-- ([RANKING.md](../../docs/RANKING.md#the-directory)) instead of a fixed 4.0:
--   * workshop_stats.directory_score: the directory's score, kept by a trigger on
--     workshop_stats when its stars change, and by the job ranking when the prior moves;
--   * ranking_platform.directory_prior / directory_strength: the platform mean and the strength
--     C the scores were computed with (a snapshot, so a page does not move with every review).
-- Online: nullable columns without default; 0154 fills them and swaps the directory's index.
ALTER TABLE workshop_stats ADD COLUMN IF NOT EXISTS directory_score numeric;
COMMENT ON COLUMN workshop_stats.directory_score IS
'The directory''s ranking score: (C * prior + rating_sum) / (C + review_count), 6 decimals (ranking_platform''s '
'directory_prior and directory_strength); first key of the directory''s order.';

ALTER TABLE ranking_platform ADD COLUMN IF NOT EXISTS directory_prior numeric;
ALTER TABLE ranking_platform ADD COLUMN IF NOT EXISTS directory_strength numeric;
COMMENT ON COLUMN ranking_platform.directory_prior IS
'The platform mean the directory''s scores were computed with (refreshed when the mean moves by 0.01 star); NULL: 4.0.';
COMMENT ON COLUMN ranking_platform.directory_strength IS
'The strength C they were computed with (the default policy''s rank_prior_strength); NULL: 20.';
