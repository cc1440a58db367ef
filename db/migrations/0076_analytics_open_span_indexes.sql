-- ssr:no-transaction
-- 0076: indexes for the spans still open, read by workshop_session_analytics at read time
-- (calls live now, mechanics available now, up to now): a few rows per workshop whatever
-- the history. Built CONCURRENTLY: writers keep writing; safe to run again from the top.

CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_open_span_idx
ON sessions (workshop_id) WHERE started_at IS NOT NULL AND ended_at IS NULL;

CREATE INDEX CONCURRENTLY IF NOT EXISTS mechanic_availability_open_workshop_idx
ON mechanic_availability (workshop_id) WHERE ended_at IS NULL;
