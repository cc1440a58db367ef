-- get_mechanic_channels: the notification channels that carry the requests a mechanic
-- may be offered (what a live dashboard LISTENs to): the global channel session_requests,
-- plus the channel of the mechanic's workshop (routing_workshop_channel) when they have one.
-- Which of those requests the mechanic may take is get_mechanic_offers' rule; the channels
-- only tell when to look again.
-- Errors, in this order: SR400 COLUMN mechanic_id when NULL; SR403 COLUMN mechanic_id unless
-- the transaction verifiably acts for that mechanic (ssr_private.assert_acting_for: no
-- identity is refused too); SR404 COLUMN mechanic_id for an unknown mechanic.
CREATE OR REPLACE FUNCTION get_mechanic_channels(p_mechanic_id uuid)
RETURNS text[]
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_workshop uuid;
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    SELECT m.workshop_id INTO v_workshop FROM mechanics AS m WHERE m.id = p_mechanic_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_workshop IS NULL THEN
        RETURN ARRAY['session_requests'];
    END IF;
    RETURN ARRAY['session_requests', routing_workshop_channel(v_workshop)];
END
$$;

COMMENT ON FUNCTION get_mechanic_channels(uuid) IS
'LISTEN channels of the requests a mechanic may be offered: session_requests and their workshop''s channel.';
