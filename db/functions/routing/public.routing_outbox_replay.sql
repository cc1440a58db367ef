-- routing_outbox_replay: the notifications after a given outbox id, in order, for a
-- consumer that reconnects (LISTEN first, then replay from the last outbox_id it saw).
CREATE OR REPLACE FUNCTION routing_outbox_replay(
    p_after_id bigint,
    p_channels text[] DEFAULT NULL,
    p_limit integer DEFAULT 1000
) RETURNS SETOF routing_outbox
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
SELECT o.*
FROM routing_outbox AS o
WHERE
    o.id > coalesce(p_after_id, 0)
    AND (p_channels IS NULL OR o.channel = ANY(p_channels))
ORDER BY o.id
LIMIT greatest(coalesce(p_limit, 1000), 0)
$$;

COMMENT ON FUNCTION routing_outbox_replay(bigint, text[], integer) IS
'Outbox rows with id > p_after_id (optionally only some channels), oldest first: replay of missed notifications.';
