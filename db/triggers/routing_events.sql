-- Every trigger on routing_events, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks routing_events only.

-- The routing audit trail is evidence: nobody, not even the owner's own functions, may rewrite or delete what it recorded.
CREATE OR REPLACE TRIGGER routing_events_append_only
BEFORE UPDATE OR DELETE ON routing_events
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_events_append_only();
