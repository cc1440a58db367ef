-- mechanics.open_sessions follows the sessions that hold a slot: assigned to the mechanic
-- (sessions.mechanic_id, set when a request is accepted) and waiting or live. A session that
-- starts holding one adds 1, one that stops (completed, no_show, cancelled, refunded,
-- reassigned, deleted) subtracts 1. Two mechanics are updated in uuid order, so concurrent
-- opposite reassignments cannot deadlock. SECURITY DEFINER: whoever may write sessions keeps
-- the count right without privileges on mechanics. Capacity itself is enforced by
-- accept_session_request (a direct UPDATE by the owner may exceed it, as an override).
CREATE OR REPLACE FUNCTION ssr_private.mechanic_open_sessions_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_old uuid;
    v_new uuid;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ('waiting', 'live') THEN
        v_old := OLD.mechanic_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN ('waiting', 'live') THEN
        v_new := NEW.mechanic_id;
    END IF;
    IF v_old IS NOT DISTINCT FROM v_new THEN
        RETURN NULL;
    END IF;
    IF v_new IS NOT NULL AND (v_old IS NULL OR v_new < v_old) THEN
        UPDATE mechanics SET open_sessions = open_sessions + 1 WHERE id = v_new;
        v_new := NULL;
    END IF;
    IF v_old IS NOT NULL THEN
        UPDATE mechanics SET open_sessions = greatest(open_sessions - 1, 0) WHERE id = v_old;
    END IF;
    IF v_new IS NOT NULL THEN
        UPDATE mechanics SET open_sessions = open_sessions + 1 WHERE id = v_new;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.mechanic_open_sessions_trg() FROM PUBLIC;

COMMENT ON FUNCTION ssr_private.mechanic_open_sessions_trg() IS
'Trigger: keeps mechanics.open_sessions equal to the waiting or live sessions assigned to each mechanic.';
