-- 0044: presence history, for utilisation (live minutes / available minutes). One row per
-- interval during which a mechanic was available for work (status active and is_available),
-- opened and closed by the trigger functions mechanic_availability_log_trg on mechanics.
-- There was no history before: 0046 opens an interval now for the mechanics available then.
-- A new table (its indexes built in this transaction); its foreign keys lock mechanics and
-- organizations briefly.

CREATE TABLE mechanic_availability (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mechanic_id uuid NOT NULL REFERENCES mechanics (id) ON DELETE CASCADE,
    workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX mechanic_availability_open_idx ON mechanic_availability (mechanic_id)
WHERE ended_at IS NULL;
CREATE INDEX mechanic_availability_workshop_idx ON mechanic_availability (workshop_id, started_at);

COMMENT ON TABLE mechanic_availability IS
'Presence history: intervals during which a mechanic was available for work (status active and is_available), '
'kept by a trigger on mechanics; the denominator of utilisation in workshop_session_analytics.';
COMMENT ON COLUMN mechanic_availability.id IS 'Interval id.';
COMMENT ON COLUMN mechanic_availability.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN mechanic_availability.workshop_id IS
'The mechanic''s workshop during the interval (a move closes the interval and opens another); NULL for independents.';
COMMENT ON COLUMN mechanic_availability.started_at IS 'When the mechanic became available.';
COMMENT ON COLUMN mechanic_availability.ended_at IS 'When they stopped being available; NULL while still available.';
