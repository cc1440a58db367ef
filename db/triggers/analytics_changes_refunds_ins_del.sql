-- analytics_changes: a refund inserted or deleted queues the periods it touches (function analytics_changes_refunds_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_refunds_ins_del
AFTER INSERT OR DELETE ON refunds
FOR EACH ROW
EXECUTE FUNCTION ssr_private.analytics_changes_refunds_trg();
