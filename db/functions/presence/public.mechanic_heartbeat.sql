-- mechanic_heartbeat: the dashboard is open (the live stream's keep-alive, or
-- POST /api/mechanic/heartbeat): records mechanics.last_seen_at, at most once per
-- presence_heartbeat_write_seconds (default 30) per mechanic, so a stream's keep-alive
-- every 15 s is not a write each time; returns the presence as get_mechanic_presence does
-- (the stream tells the mechanic when the engine took them away, and why). The sweep's
-- grace period (presence_grace_seconds) reads last_seen_at. A heartbeat never brings a
-- mechanic back online: set_mechanic_presence does. Errors: as get_mechanic_presence
-- (SR400, SR403, SR404).
CREATE OR REPLACE FUNCTION mechanic_heartbeat(p_mechanic_id uuid)
RETURNS TABLE (
    mechanic_id uuid,
    online boolean,
    away_reason text,
    away_at timestamptz,
    last_seen_at timestamptz,
    live_offers integer
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_every integer;
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    v_every := (ssr_private.default_policy_params() ->> 'presence_heartbeat_write_seconds')::integer;
    UPDATE mechanics AS m
    SET last_seen_at = now()
    WHERE
        m.id = p_mechanic_id
        AND (m.last_seen_at IS NULL OR m.last_seen_at <= now() - make_interval(secs => v_every));
    RETURN QUERY SELECT * FROM get_mechanic_presence(p_mechanic_id);
END
$$;

COMMENT ON FUNCTION mechanic_heartbeat(uuid) IS
'The dashboard is open: records the heartbeat (throttled) and returns the presence; SR400/SR403/SR404.';
