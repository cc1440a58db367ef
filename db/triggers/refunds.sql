-- Every trigger on refunds, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks refunds only.

-- analytics_changes: a refund inserted or deleted queues the periods it touches (function
-- analytics_changes_refunds_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_refunds_ins_del
AFTER INSERT OR DELETE ON refunds
FOR EACH ROW
EXECUTE FUNCTION ssr_private.analytics_changes_refunds_trg();

-- analytics_changes: a refund moved to another session or request queues the periods it touches (function
-- analytics_changes_refunds_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_refunds_upd
AFTER UPDATE ON refunds
FOR EACH ROW
WHEN ((old.session_id, old.session_request_id) IS DISTINCT FROM (new.session_id, new.session_request_id))
EXECUTE FUNCTION ssr_private.analytics_changes_refunds_trg();

-- analytics rollups: a TRUNCATE of refunds (no row triggers fire) recounts them (function
-- analytics_rollups_truncate_trg, db/functions/). One file per table.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_refunds
AFTER TRUNCATE ON refunds
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();
