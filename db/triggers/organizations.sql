-- Every trigger on organizations, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks organizations only.

-- Function ssr_private.routing_candidates_organizations_trg
-- (db/functions/routing/ssr_private.routing_candidates_organizations_trg.sql): routing_candidates: a
-- workshop's status change adds or removes its eligible mechanics (by the rule routing_mechanic_eligible
-- under the old and the new status). It locks the workshop's workshop_stats row first, as the mechanics
-- trigger does before it reads the workshop's status, so a mechanic changing at the same time is counted
-- exactly once. The same row gives its available_mechanics: when it is > 0 and the status goes to or from
-- active, the directory's size (listed_workshops) moves by one in the same UPDATE (eligible_mechanics moves
-- then too: no extra row lock). A workshop with mechanics cannot be deleted (RESTRICT), and a new one has
-- none: only status updates matter. SECURITY DEFINER like the other counting triggers. Input: the
-- organizations row before and after; no errors.
CREATE OR REPLACE TRIGGER routing_candidates_organizations_upd
AFTER UPDATE ON organizations
FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status)
EXECUTE FUNCTION ssr_private.routing_candidates_organizations_trg();

-- Function ssr_private.workshop_stats_organizations_trg
-- (db/functions/workshop_stats/ssr_private.workshop_stats_organizations_trg.sql): workshop_stats: every new
-- organization gets its (zero) aggregates row. Deleting an organization deletes its row (ON DELETE CASCADE).
CREATE OR REPLACE TRIGGER workshop_stats_organizations_ins
AFTER INSERT ON organizations
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_organizations_trg();
