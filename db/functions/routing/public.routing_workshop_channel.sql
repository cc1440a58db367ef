-- routing_workshop_channel: the LISTEN channel of one workshop's requests,
-- session_requests_ws_<uuid without dashes> (52 bytes, under the 63-byte limit).
CREATE OR REPLACE FUNCTION routing_workshop_channel(p_workshop_id uuid)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
SELECT 'session_requests_ws_' || replace(p_workshop_id::text, '-', '')
$$;

COMMENT ON FUNCTION routing_workshop_channel(uuid) IS
'Notification channel of a workshop: session_requests_ws_<32 hex digits>. The global channel is session_requests.';
