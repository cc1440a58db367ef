-- Every outbox row is sent with pg_notify on its channel in the same transaction, so
-- listeners get it exactly when (and only if) the routing change commits.
CREATE OR REPLACE FUNCTION ssr_private.routing_outbox_notify()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM pg_notify(NEW.channel, (NEW.payload || jsonb_build_object('outbox_id', NEW.id))::text);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_outbox_notify() IS 'Trigger: sends a new routing_outbox row with pg_notify (payload plus outbox_id).';

CREATE OR REPLACE TRIGGER routing_outbox_notify
AFTER INSERT ON routing_outbox
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_outbox_notify();
