-- Every trigger on routing_policies, in firing order (BEFORE, then AFTER; by name within each).

-- A policy sets only registered parameters of the right kind and bounds, and never changes them once created.
CREATE OR REPLACE TRIGGER routing_policies_check
BEFORE INSERT OR UPDATE ON routing_policies
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_policies_check_trg();
