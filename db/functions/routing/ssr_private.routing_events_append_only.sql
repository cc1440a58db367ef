-- routing_events is an append-only audit trail: UPDATE and DELETE are refused (SR403).
CREATE OR REPLACE FUNCTION ssr_private.routing_events_append_only()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'SR403',
        MESSAGE = format('routing_events is append-only: %s is not allowed', TG_OP),
        TABLE = 'routing_events';
END
$$;

COMMENT ON FUNCTION ssr_private.routing_events_append_only() IS 'Trigger: refuses UPDATE and DELETE on routing_events.';
