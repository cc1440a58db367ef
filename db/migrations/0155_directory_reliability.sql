-- 0155: the directory's reliability term ([RANKING.md](../../docs/RANKING.md#the-directory)):
--   * mechanic_rankings.reliability: the reliability part of a mechanic's score (acceptance,
--     response time, no-shows; the rating left out), kept with rank_score;
--   * workshop_stats.reliability: the mean of its active mechanics', refreshed by the job
--     ranking; the directory subtracts rank_directory_weight * (1 - reliability) stars;
--   * ranking_platform.directory_weight: the weight the scores were computed with.
--   * rank_directory_weight: the parameter (0: the stars alone, as before).
-- Online: nullable columns without default.
ALTER TABLE mechanic_rankings ADD COLUMN IF NOT EXISTS reliability double precision;
COMMENT ON COLUMN mechanic_rankings.reliability IS
'The reliability part of the score (weighted acceptance, response and no-show terms, 0..1); NULL: none counted yet.';
ALTER TABLE workshop_stats ADD COLUMN IF NOT EXISTS reliability double precision;
COMMENT ON COLUMN workshop_stats.reliability IS
'Mean reliability of its active mechanics who have one (mechanic_rankings.reliability), refreshed by the job ranking; '
'NULL: none.';
ALTER TABLE ranking_platform ADD COLUMN IF NOT EXISTS directory_weight numeric;
COMMENT ON COLUMN ranking_platform.directory_weight IS
'The rank_directory_weight the directory''s scores were computed with; NULL: 0.';

INSERT INTO routing_parameters (name, kind, default_value, min_value, max_value, nullable, description) VALUES
(
    'rank_directory_weight', 'number', '0', 0, 5, FALSE,
    'Stars the directory takes off a workshop whose mechanics are wholly unreliable: score - weight * (1 - reliability).'
)
ON CONFLICT (name) DO NOTHING;
