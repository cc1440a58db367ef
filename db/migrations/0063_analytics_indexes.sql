-- ssr:no-transaction
-- 0063: indexes for the analytics job and the notification relay, built CONCURRENTLY:
-- writers keep writing while each is built; the file is safe to run again from the top.
-- The day recount of refresh_analytics() finds a workshop's requests of a day by
-- (workshop, created_at): these two replace the single-column indexes of 0011 (the same
-- number of indexes to maintain on insert). The relay finds the rows not sent yet.

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_workshop_created_idx
ON session_requests (workshop_id, created_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_preferred_created_idx
ON session_requests (preferred_workshop_id, created_at);

DROP INDEX CONCURRENTLY IF EXISTS session_requests_workshop_id_idx;

DROP INDEX CONCURRENTLY IF EXISTS session_requests_preferred_workshop_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS routing_outbox_unnotified_idx
ON routing_outbox (id) WHERE notified_at IS NULL;
