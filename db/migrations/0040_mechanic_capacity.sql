-- 0040: a mechanic's capacity of concurrent sessions, and the sessions' life after accept.
-- A slot is a session assigned to the mechanic (sessions.mechanic_id, set on accept) that is
-- waiting (accepted, not started yet) or live. completed, no_show, cancelled and refunded
-- sessions hold none. mechanics.open_sessions counts the held slots, kept exact by the
-- trigger db/triggers/mechanic_open_sessions.sql (mechanic_state_rebuild() recounts);
-- routing_available_mechanics, the one eligibility rule, requires open_sessions < capacity.

ALTER TABLE mechanics
ADD COLUMN capacity integer NOT NULL DEFAULT 1
CONSTRAINT mechanics_capacity_check CHECK (capacity >= 1),
ADD COLUMN open_sessions integer NOT NULL DEFAULT 0
CONSTRAINT mechanics_open_sessions_check CHECK (open_sessions >= 0);

COMMENT ON COLUMN mechanics.capacity IS
'How many sessions the mechanic may hold at once (waiting after accept, or live); default 1. At capacity the mechanic '
'is offered nothing and cannot accept (SR409) until a session ends.';
COMMENT ON COLUMN mechanics.open_sessions IS
'Sessions the mechanic holds now: assigned to them and waiting or live. Kept by a trigger on sessions; '
'recount with mechanic_state_rebuild().';

-- The session's life after accept: waiting -> live -> completed, or waiting -> no_show.
ALTER TABLE sessions
DROP CONSTRAINT sessions_status_check,
ADD CONSTRAINT sessions_status_check
CHECK (status IN ('waiting', 'live', 'completed', 'no_show', 'cancelled', 'refunded'));
COMMENT ON COLUMN sessions.status IS
'waiting (for a mechanic, then for the call to start), live, completed, no_show (the customer did not come), '
'cancelled, refunded.';

CREATE INDEX sessions_mechanic_open_idx ON sessions (mechanic_id)
WHERE status IN ('waiting', 'live');

-- Backfill from the data already there (the trigger takes over from here).
UPDATE mechanics AS m
SET open_sessions = s.n
FROM (
    SELECT
        se.mechanic_id,
        count(*)::integer AS n
    FROM sessions AS se
    WHERE se.mechanic_id IS NOT NULL AND se.status IN ('waiting', 'live')
    GROUP BY se.mechanic_id
) AS s
WHERE m.id = s.mechanic_id;
