-- ssr_private.routing_outbox_relay: sends the committed outbox rows not sent yet with pg_notify, in
-- outbox order, and marks them notified; returns how many it sent. Run it often (the
-- worker's job relay, every 100 ms): a notification reaches listeners that much
-- after its routing change committed. One transaction per batch, so the commit-time lock
-- that NOTIFY takes is paid once per batch, not by every routing transaction.
-- Input: p_limit, the most rows sent in one call (default 1000). Concurrent relays skip
-- each other's rows (FOR UPDATE SKIP LOCKED): each row is sent once, unless the relay's
-- transaction rolls back (then nothing of it was sent or marked). Payload: the row's
-- payload plus outbox_id. Errors: p_limit NULL or < 1: SR400 (COLUMN limit).
-- Owner only: the worker, which connects as the owner, is the one relay (the app's hubs only
-- listen).
CREATE OR REPLACE FUNCTION ssr_private.routing_outbox_relay(p_limit integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_ids bigint[];
    v_row record;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'limit must be >= 1', COLUMN = 'limit';
    END IF;
    v_ids := ARRAY(
        SELECT o.id
        FROM routing_outbox AS o
        WHERE o.notified_at IS NULL
        ORDER BY o.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    );
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    FOR v_row IN
        SELECT o.id, o.channel, o.payload FROM routing_outbox AS o WHERE o.id = ANY(v_ids) ORDER BY o.id
    LOOP
        PERFORM pg_notify(v_row.channel, (v_row.payload || jsonb_build_object('outbox_id', v_row.id))::text);
    END LOOP;
    UPDATE routing_outbox AS o SET notified_at = clock_timestamp() WHERE o.id = ANY(v_ids);
    RETURN cardinality(v_ids);
END
$$;

COMMENT ON FUNCTION ssr_private.routing_outbox_relay(integer) IS
'Sends committed routing_outbox rows not sent yet with pg_notify (payload plus outbox_id), in order, and marks them; '
'returns how many. Run every 100 ms by the worker.';
