-- ssr_private.routing_outbox_payload: the JSON text a live stream sends for one outbox row:
-- its payload plus outbox_id, without who accepted the request (mechanic_id, workshop_id)
-- unless the row is on the preferred workshop's channel and the accepting workshop is that
-- workshop. ssr_private.routing_publish writes no other identities since 0115; this also
-- strips the rows written before, so a replay never shows them. No errors.
CREATE OR REPLACE FUNCTION ssr_private.routing_outbox_payload(p_row routing_outbox)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
SELECT (
    CASE
        WHEN
            (p_row).channel <> 'session_requests'
            AND (p_row).payload ->> 'workshop_id' = (p_row).payload ->> 'preferred_workshop_id'
            THEN (p_row).payload
        ELSE (p_row).payload - 'mechanic_id' - 'workshop_id'
    END || jsonb_build_object('outbox_id', (p_row).id)
)::text
$$;

COMMENT ON FUNCTION ssr_private.routing_outbox_payload(routing_outbox) IS
'What a live stream sends for an outbox row: payload plus outbox_id, accepting mechanic and workshop only to that '
'workshop''s own channel.';
