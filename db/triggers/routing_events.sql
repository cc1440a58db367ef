-- Every trigger on routing_events, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks routing_events only.

-- Function ssr_private.routing_events_append_only
-- (db/functions/routing/ssr_private.routing_events_append_only.sql): routing_events is an append-only audit
-- trail: UPDATE and DELETE are refused (SR403).
CREATE OR REPLACE TRIGGER routing_events_append_only
BEFORE UPDATE OR DELETE ON routing_events
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_events_append_only();
