-- 0040: a mechanic's capacity of concurrent sessions.
-- A slot is a session assigned to the mechanic (sessions.mechanic_id, set on accept) that is
-- waiting (accepted, not started yet) or live; completed, no_show, cancelled and refunded
-- sessions hold none. mechanics.open_sessions counts the held slots, kept by the trigger
-- functions mechanic_open_sessions_trg (db/triggers/mechanic_open_sessions_*.sql) and
-- filled by 0046 once they run; routing_available_mechanics, the one eligibility rule,
-- requires open_sessions < capacity. Columns with constants: no rewrite; the CHECKs are
-- NOT VALID here (no scan under the lock) and validated by 0045. Only mechanics is locked.

ALTER TABLE mechanics
ADD COLUMN capacity integer NOT NULL DEFAULT 1,
ADD COLUMN open_sessions integer NOT NULL DEFAULT 0,
ADD CONSTRAINT mechanics_capacity_check CHECK (capacity >= 1) NOT VALID,
ADD CONSTRAINT mechanics_open_sessions_check CHECK (open_sessions >= 0) NOT VALID;

COMMENT ON COLUMN mechanics.capacity IS
'How many sessions the mechanic may hold at once (waiting after accept, or live); default 1. At capacity the mechanic '
'is offered nothing and cannot accept (SR409) until a session ends.';
COMMENT ON COLUMN mechanics.open_sessions IS
'Sessions the mechanic holds now: assigned to them and waiting or live. Kept by triggers on sessions; '
'recount with mechanic_state_rebuild().';

-- The mechanic row-level-security policy of session_requests reads them.
GRANT SELECT (capacity, open_sessions) ON mechanics TO mechanic;
