-- TRUNCATE fires no row triggers: a TRUNCATE of sessions recounts mechanics.open_sessions
-- (mechanic_state_rebuild), and one of mechanic_availability reopens the intervals of the
-- mechanics available now.
CREATE OR REPLACE FUNCTION ssr_private.mechanic_state_truncate_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM ssr_private.mechanic_state_rebuild();
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION ssr_private.mechanic_state_truncate_trg() FROM PUBLIC;

COMMENT ON FUNCTION ssr_private.mechanic_state_truncate_trg() IS
'Trigger: after a TRUNCATE of sessions or mechanic_availability, recounts the mechanics'' state (mechanic_state_rebuild).';
