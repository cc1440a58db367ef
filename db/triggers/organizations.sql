-- Every trigger on organizations, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks organizations only.

-- A workshop that opens or closes adds or removes all its mechanics from routing's candidate count and the directory's size.
CREATE OR REPLACE TRIGGER routing_candidates_organizations_upd
AFTER UPDATE ON organizations
FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status)
EXECUTE FUNCTION ssr_private.routing_candidates_organizations_trg();

-- Every workshop has its aggregates row from the start, so the counting triggers only ever update it and never race to insert it.
CREATE OR REPLACE TRIGGER workshop_stats_organizations_ins
AFTER INSERT ON organizations
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_organizations_trg();
