-- analytics_changes: a decline changed in a column the BI views read queues the periods it touches (function analytics_changes_declines_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_declines_upd
AFTER UPDATE ON session_request_declines
FOR EACH ROW
WHEN (
    (old.request_id, old.workshop_id, old.offered_at, old.declined_at)
    IS DISTINCT FROM (new.request_id, new.workshop_id, new.offered_at, new.declined_at)
)
EXECUTE FUNCTION ssr_private.analytics_changes_declines_trg();
