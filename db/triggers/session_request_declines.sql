-- Every trigger on session_request_declines, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks session_request_declines only.

-- analytics_changes: a decline inserted or deleted queues the periods it touches (function
-- analytics_changes_declines_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_declines_ins_del
AFTER INSERT OR DELETE ON session_request_declines
FOR EACH ROW
EXECUTE FUNCTION ssr_private.analytics_changes_declines_trg();

-- analytics_changes: a decline changed in a column the BI views read queues the periods it touches (function
-- analytics_changes_declines_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_declines_upd
AFTER UPDATE ON session_request_declines
FOR EACH ROW
WHEN (
    (old.request_id, old.workshop_id, old.offered_at, old.declined_at)
    IS DISTINCT FROM (new.request_id, new.workshop_id, new.offered_at, new.declined_at)
)
EXECUTE FUNCTION ssr_private.analytics_changes_declines_trg();

-- analytics rollups: a TRUNCATE of session_request_declines (no row triggers fire) recounts them (function
-- analytics_rollups_truncate_trg, db/functions/). One file per table.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_session_request_declines
AFTER TRUNCATE ON session_request_declines
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- Function ssr_private.routing_declines_copy_trg
-- (db/functions/routing/ssr_private.routing_declines_copy_trg.sql): A decline (a row of
-- session_request_declines, whoever writes it) is copied onto its request (session_requests.declined_by, read
-- by offers, accept and the mechanic policy) and recorded in the audit trail (routing_events 'declined', with
-- the seconds from offer to decline and the reason). A deleted decline is removed from the copy.
CREATE OR REPLACE TRIGGER routing_declines_copy
AFTER INSERT OR DELETE ON session_request_declines
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_declines_copy_trg();
