-- analytics_changes: a decline inserted or deleted queues the periods it touches (function analytics_changes_declines_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_declines_ins_del
AFTER INSERT OR DELETE ON session_request_declines
FOR EACH ROW
EXECUTE FUNCTION ssr_private.analytics_changes_declines_trg();
