-- ssr:no-transaction
-- 0045: the index that finds a mechanic's open sessions (the recount of 0046 and
-- mechanic_state_rebuild), built CONCURRENTLY: writers keep writing. Then the CHECKs that
-- 0040, 0041 and 0043 added NOT VALID are validated (a SHARE UPDATE EXCLUSIVE lock: blocks
-- no reader or writer). Each statement commits on its own; safe to run again from the top.

CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_mechanic_open_idx ON sessions (mechanic_id)
WHERE status IN ('waiting', 'live');

ALTER TABLE mechanics VALIDATE CONSTRAINT mechanics_capacity_check;
ALTER TABLE mechanics VALIDATE CONSTRAINT mechanics_open_sessions_check;
ALTER TABLE sessions VALIDATE CONSTRAINT sessions_status_check;
ALTER TABLE routing_events VALIDATE CONSTRAINT routing_events_event_type_check;
