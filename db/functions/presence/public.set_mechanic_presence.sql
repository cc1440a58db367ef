-- set_mechanic_presence: a mechanic goes online (offered requests again) or offline (offered
-- nothing) from the dashboard: mechanics.is_available, the presence the routing engine reads.
-- Idempotent: setting the state the mechanic is in changes nothing (changed_at stays NULL).
-- Going online also records online_at and a heartbeat (last_seen_at) and clears why the
-- engine took them away (away_reason, away_at: timed-out offers or no heartbeat), so the
-- timeouts before it no longer count towards auto-away; going offline rescinds their live
-- targeted offers (reason mechanic_offline; ssr_private.offer_release_mechanic).
-- Errors, in this order: SR400 mechanic_id or online missing; SR403 (mechanic_id) the
-- transaction does not verifiably act for that mechanic; SR404 unknown mechanic; SR409 a
-- mechanic who is not active cannot go online.
CREATE OR REPLACE FUNCTION set_mechanic_presence(
    p_mechanic_id uuid,
    p_online boolean
) RETURNS TABLE (
    mechanic_id uuid,
    online boolean,
    changed_at timestamptz
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_mechanic mechanics;
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    IF p_online IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'online is required (true or false)', COLUMN = 'online';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);

    SELECT * INTO v_mechanic FROM mechanics AS m WHERE m.id = p_mechanic_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    IF p_online AND v_mechanic.status <> 'active' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format('mechanic %s is %s: only an active mechanic can go online', p_mechanic_id, v_mechanic.status),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_mechanic.is_available = p_online THEN
        RETURN QUERY SELECT p_mechanic_id, p_online, NULL::timestamptz;
        RETURN;
    END IF;
    UPDATE mechanics AS m
    SET
        is_available = p_online,
        online_at = CASE WHEN p_online THEN now() ELSE m.online_at END,
        last_seen_at = CASE WHEN p_online THEN now() ELSE m.last_seen_at END,
        away_reason = NULL,
        away_at = NULL
    WHERE m.id = p_mechanic_id;
    IF NOT p_online THEN
        PERFORM ssr_private.offer_release_mechanic(ARRAY[p_mechanic_id], 'mechanic_offline', now());
    END IF;
    RETURN QUERY SELECT p_mechanic_id, p_online, now();
END
$$;

COMMENT ON FUNCTION set_mechanic_presence(uuid, boolean) IS
'A mechanic goes online or offline (the availability routing reads); idempotent; SR400/SR403/SR404/SR409.';
