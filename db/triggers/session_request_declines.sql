-- Every trigger on session_request_declines, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks session_request_declines only.

-- The BI rollups are recounted per queued period: a decline added or removed changes its workshop's and routing type's days.
CREATE OR REPLACE TRIGGER analytics_changes_declines_ins_del
AFTER INSERT OR DELETE ON session_request_declines
FOR EACH ROW
EXECUTE FUNCTION ssr_private.analytics_changes_declines_trg();

-- The BI rollups are recounted per queued period: a decline changed in a column they read changes the periods it touches.
CREATE OR REPLACE TRIGGER analytics_changes_declines_upd
AFTER UPDATE ON session_request_declines
FOR EACH ROW
WHEN (
    (old.request_id, old.workshop_id, old.offered_at, old.declined_at)
    IS DISTINCT FROM (new.request_id, new.workshop_id, new.offered_at, new.declined_at)
)
EXECUTE FUNCTION ssr_private.analytics_changes_declines_trg();

-- A TRUNCATE fires no row trigger: the analytics rollups are recounted from scratch, or they would count rows that are gone.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_session_request_declines
AFTER TRUNCATE ON session_request_declines
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- Offers, accept and the mechanic policy read a request's decliners on the request; every decline is audited, whoever writes it.
CREATE OR REPLACE TRIGGER routing_declines_copy
AFTER INSERT OR DELETE ON session_request_declines
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_declines_copy_trg();
