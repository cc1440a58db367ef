-- ranking_sessions_trg: a session its mechanic accepted that ends (waiting or live ->
-- completed, no_show, cancelled or refunded; or is inserted ended, with its mechanic) counts into the mechanic's UTC day of its end
-- (ended_at, else its creation): sessions_ended, and sessions_missed when it ended cancelled or
-- refunded without ever starting (the mechanic did not turn up; a customer's no-show,
-- marked by the mechanic, is not held against them). Then the mechanic is rescored.
-- No errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.ranking_sessions_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_missed integer := (NEW.status IN ('cancelled', 'refunded') AND NEW.started_at IS NULL)::integer;
BEGIN
    INSERT INTO mechanic_reliability_days AS d (mechanic_id, day, sessions_ended, sessions_missed)
    VALUES (NEW.mechanic_id, (coalesce(NEW.ended_at, NEW.created_at) AT TIME ZONE 'UTC')::date, 1, v_missed)
    ON CONFLICT (mechanic_id, day) DO UPDATE
    SET sessions_ended = d.sessions_ended + 1, sessions_missed = d.sessions_missed + excluded.sessions_missed;
    PERFORM ssr_private.ranking_refresh_mechanic(NEW.mechanic_id);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_sessions_trg() IS
'Trigger: an accepted session that ends counts into its mechanic''s ended and missed sessions, and rescores them.';
