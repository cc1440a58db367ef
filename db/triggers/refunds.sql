-- Every trigger on refunds, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks refunds only.

-- The BI rollups are recounted per queued period: a refund added or removed changes its session's and its request's days.
CREATE OR REPLACE TRIGGER analytics_changes_refunds_ins_del
AFTER INSERT OR DELETE ON refunds
FOR EACH ROW
EXECUTE FUNCTION ssr_private.analytics_changes_refunds_trg();

-- The BI rollups are recounted per queued period: a refund moved to another session or request changes both periods' counts.
CREATE OR REPLACE TRIGGER analytics_changes_refunds_upd
AFTER UPDATE ON refunds
FOR EACH ROW
WHEN ((old.session_id, old.session_request_id) IS DISTINCT FROM (new.session_id, new.session_request_id))
EXECUTE FUNCTION ssr_private.analytics_changes_refunds_trg();

-- A TRUNCATE fires no row trigger: the analytics rollups are recounted from scratch, or they would count rows that are gone.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_refunds
AFTER TRUNCATE ON refunds
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- A refund of an assigned request: queue it for the experiment rollup.
CREATE OR REPLACE TRIGGER experiment_changes_refunds
AFTER INSERT OR UPDATE OF status, amount_minor ON refunds
FOR EACH ROW EXECUTE FUNCTION ssr_private.experiment_changes_trg();
