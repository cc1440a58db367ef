-- routing_outbox_feed: what a live hub (app/live.py, one per app process) reads from the outbox
-- when a notification wakes it: the rows of the given channels after p_after_id, except the
-- ids in p_skip (the ones it already read: the hub reads again a little below its position,
-- as ids are taken before their transactions commit in any order), oldest first, at most
-- p_limit, none older than 10 minutes (a hub back after an outage does not push old
-- events; the dashboards reload their offers when a stream opens). A notification is only
-- a wake-up: what the streams send, and how far the hub moves, comes from these rows.
-- data: the text to send (ssr_private.routing_outbox_payload). p_after_id NULL: the head
-- only (one row with the highest id and no channel, data NULL; id 0 for an empty outbox),
-- where a hub starts.
-- Errors: SR400 COLUMN limit when p_limit is not between 1 and 1000.
CREATE OR REPLACE FUNCTION routing_outbox_feed(
    p_after_id bigint,
    p_channels text[],
    p_skip bigint[] DEFAULT '{}',
    p_limit integer DEFAULT 500
) RETURNS TABLE (id bigint, channel text, data text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be between 1 and 1000 (got %s)', p_limit),
            COLUMN = 'limit';
    END IF;
    IF p_after_id IS NULL THEN
        RETURN QUERY SELECT coalesce(max(o.id), 0), NULL::text, NULL::text FROM routing_outbox AS o;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT o.id, o.channel, ssr_private.routing_outbox_payload(o)
    FROM routing_outbox AS o
    WHERE
        o.id > p_after_id
        AND o.channel = ANY(p_channels)
        AND o.id <> ALL(coalesce(p_skip, '{}'))
        AND o.created_at > now() - interval '10 minutes'
    ORDER BY o.id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION routing_outbox_feed(bigint, text[], bigint[], integer) IS
'A live hub''s read: outbox rows of some channels after an id (minus ids already read), at most 10 minutes old, '
'as the text streams send; p_after_id NULL: the head id.';
