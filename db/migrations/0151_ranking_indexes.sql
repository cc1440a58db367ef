-- ssr:no-transaction
-- 0151: indexes of the eligibility and the ranking (0150), built without blocking writes.
--   * offers_mechanic_resolved_idx: a mechanic's resolved offers (accepted, declined, timed
--     out), newest outcome first: the acceptance rate over their last N offers reads N
--     entries of it.
--   * session_requests_pending_priority_idx: priority customers' pending requests, served
--     first (get_mechanic_offers' fourth candidate set).
--   * mechanic_rankings_computed_at_idx: the stalest scores first, for the job ranking.
--   * mechanics_hours_scheduled_idx: the mechanics whom working hours concern, which the job
--     hours reads every 30 s.
CREATE INDEX CONCURRENTLY IF NOT EXISTS offers_mechanic_resolved_idx
ON offers (mechanic_id, outcome_at DESC, id DESC)
WHERE outcome IN ('accepted', 'declined', 'timed_out');

CREATE INDEX CONCURRENTLY IF NOT EXISTS mechanics_hours_scheduled_idx
ON mechanics (id)
WHERE hours_scheduled;

CREATE INDEX CONCURRENTLY IF NOT EXISTS mechanic_rankings_computed_at_idx
ON mechanic_rankings (computed_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_pending_priority_idx
ON session_requests (priority DESC, created_at, id)
WHERE status = 'pending' AND priority IS NOT NULL;
