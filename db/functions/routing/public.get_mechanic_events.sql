-- get_mechanic_events: what a mechanic's live stream replays when it reconnects (Last-Event-ID):
-- the outbox rows after p_after_id on the mechanic's channels (get_mechanic_channels), at
-- most 15 minutes old, that announce a request this mechanic is offered now
-- (ssr_private.routing_offered, for a mechanic of routing_offerable_mechanics), one they
-- accepted themselves, or that a request is gone (accepted, expired, cancelled: what a
-- dashboard needs to drop a row it shows); the newest p_limit of them, oldest first. Not
-- replayed: the creation of requests offered to others or no longer offered, and anything
-- older (the dashboard reloads its offers when a stream opens). data: the text to send
-- (ssr_private.routing_outbox_payload: no other mechanic's or workshop's identity).
-- Errors, in this order: SR400 COLUMN mechanic_id when NULL; SR400 COLUMN limit unless
-- 1..1000; SR403 COLUMN mechanic_id unless the transaction verifiably acts for that mechanic
-- (ssr_private.assert_acting_for); SR404 COLUMN mechanic_id for an unknown mechanic.
CREATE OR REPLACE FUNCTION get_mechanic_events(
    p_mechanic_id uuid,
    p_after_id bigint,
    p_limit integer DEFAULT 200
) RETURNS TABLE (id bigint, channel text, data text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_channels text[];
    v_offerable boolean;
    v_workshop uuid;
    v_floor bigint;
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be between 1 and 1000 (got %s)', p_limit),
            COLUMN = 'limit';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    v_channels := get_mechanic_channels(p_mechanic_id);  -- SR404 when unknown
    SELECT a.workshop_id INTO v_workshop
    FROM ssr_private.routing_offerable_mechanics AS a WHERE a.mechanic_id = p_mechanic_id;
    v_offerable := FOUND;
    -- The newest row after p_after_id older than the window, walking the primary key back from
    -- the head: the scan is at most the window's rows, never the whole history (ids grow with
    -- created_at).
    SELECT o.id INTO v_floor
    FROM routing_outbox AS o
    WHERE o.id > coalesce(p_after_id, 0) AND o.created_at <= now() - interval '15 minutes'
    ORDER BY o.id DESC
    LIMIT 1;
    RETURN QUERY
    SELECT e.id, e.channel, e.data
    FROM (
        SELECT o.id, o.channel, ssr_private.routing_outbox_payload(o) AS data
        FROM routing_outbox AS o
        INNER JOIN session_requests AS r ON o.request_id = r.id
        WHERE
            o.id > greatest(coalesce(p_after_id, 0), coalesce(v_floor, 0))
            AND o.channel = ANY(v_channels)
            AND o.created_at > now() - interval '15 minutes'
            AND (
                o.event_type IN ('accepted', 'expired', 'cancelled')
                OR r.mechanic_id = p_mechanic_id
                OR (v_offerable AND ssr_private.routing_offered(r, p_mechanic_id, v_workshop, now()))
            )
        ORDER BY o.id DESC
        LIMIT p_limit
    ) AS e
    ORDER BY e.id;
END
$$;

COMMENT ON FUNCTION get_mechanic_events(uuid, bigint, integer) IS
'A mechanic''s replay: outbox rows after an id on their channels, at most 15 minutes old, of requests offered to them '
'now, accepted by them, or gone; the newest p_limit.';
