-- analytics_changes: a session request's change queues the periods it touches (function analytics_changes_session_requests_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_session_requests_ins_del
AFTER INSERT OR DELETE ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.analytics_changes_session_requests_trg();
