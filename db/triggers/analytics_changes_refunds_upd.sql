-- analytics_changes: a refund moved to another session or request queues the periods it touches (function analytics_changes_refunds_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_refunds_upd
AFTER UPDATE ON refunds
FOR EACH ROW
WHEN ((old.session_id, old.session_request_id) IS DISTINCT FROM (new.session_id, new.session_request_id))
EXECUTE FUNCTION ssr_private.analytics_changes_refunds_trg();
