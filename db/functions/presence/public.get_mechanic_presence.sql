-- get_mechanic_presence: what the dashboard shows of a mechanic's presence: online or not,
-- why the engine took them away (away_reason offers_timed_out or no_heartbeat, with
-- away_at; NULL when they went offline themselves or are online), the last heartbeat, and
-- how many live targeted offers they hold. Reads only. Errors, in this order: SR400
-- mechanic_id missing; SR403 (mechanic_id) the transaction does not verifiably act for that
-- mechanic (ssr_private.assert_acting_for); SR404 unknown mechanic.
CREATE OR REPLACE FUNCTION get_mechanic_presence(p_mechanic_id uuid)
RETURNS TABLE (
    mechanic_id uuid,
    online boolean,
    away_reason text,
    away_at timestamptz,
    last_seen_at timestamptz,
    live_offers integer
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    RETURN QUERY
    SELECT
        m.id,
        m.is_available,
        CASE WHEN NOT m.is_available THEN m.away_reason END,
        CASE WHEN NOT m.is_available THEN m.away_at END,
        m.last_seen_at,
        (
            SELECT count(*)::integer FROM offers AS o
            WHERE o.mechanic_id = m.id AND o.outcome IS NULL AND o.expires_at > now()
        )
    FROM mechanics AS m
    WHERE m.id = p_mechanic_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
END
$$;

COMMENT ON FUNCTION get_mechanic_presence(uuid) IS
'A mechanic''s presence for the dashboard: online, why away (offers_timed_out, no_heartbeat), last heartbeat, live offers.';
