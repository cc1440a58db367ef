-- ssr:no-transaction
-- 0011: the indexes of the routing columns (0002, 0010), built CONCURRENTLY: writers keep
-- writing while each is built. Each statement runs on its own (no transaction); the runner
-- drops an INVALID index left by an interrupted build before building it again, and the
-- whole file is safe to run again from the top (IF [NOT] EXISTS).
--
-- The pending-request indexes give get_mechanic_offers its candidate sets in
-- (created_at, id) order, one per kind, so each set stops after `limit` rows however many
-- requests are pending and whatever the planner's statistics say (a burst of requests
-- leaves them stale; measured by make bench). They replace the general pending index of
-- 0001, which nothing reads.

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_workshop_id_idx
ON session_requests (workshop_id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_preferred_workshop_idx
ON session_requests (preferred_workshop_id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_routing_type_idx
ON session_requests (routing_type, created_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_workshop_id_idx
ON sessions (workshop_id, created_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_preferred_workshop_idx
ON sessions (preferred_workshop_id, created_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_pending_preferred_idx
ON session_requests (preferred_workshop_id, created_at, id)
WHERE status = 'pending';

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_pending_broadcast_idx
ON session_requests (created_at, id)
WHERE status = 'pending' AND routing_type = 'broadcast';

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_pending_hybrid_idx
ON session_requests (created_at, id)
WHERE status = 'pending' AND routing_type = 'hybrid';

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_pending_expiry_idx
ON session_requests (expires_at)
WHERE status = 'pending' AND expires_at IS NOT NULL;

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_pending_window_idx
ON session_requests (exclusive_until)
WHERE status = 'pending' AND routing_type = 'hybrid' AND escalated_at IS NULL AND exclusive_until IS NOT NULL;

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_outcome_idx
ON session_requests (outcome, closed_at)
WHERE outcome IS NOT NULL;

DROP INDEX CONCURRENTLY IF EXISTS session_requests_pending_idx;
