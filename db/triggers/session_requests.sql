-- Every trigger on session_requests, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks session_requests only.

-- Function ssr_private.auto_populate_session_workshop
-- (db/functions/routing/ssr_private.auto_populate_session_workshop.sql): Auto-population, part 1 (the design
-- note's trigger session_request_populate_workshop, function auto_populate_session_workshop):
-- session_requests.workshop_id follows the accepting mechanic (their workshop, NULL for independents)
-- whenever mechanic_id is set or changed, by accept_session_request or by a direct UPDATE. On INSERT it is
-- filled only when the caller left it NULL (imports may carry the historical workshop). Inputs: the new row.
-- Errors: none of its own. The trigger and function had another name before (routing_fill_request_workshop):
-- dropped here when present (only then: DROP TRIGGER locks the table ACCESS EXCLUSIVE), so an existing
-- database keeps one trigger.
CREATE OR REPLACE TRIGGER session_request_populate_workshop
BEFORE INSERT OR UPDATE OF mechanic_id ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.auto_populate_session_workshop();

-- analytics_changes: a session request's change queues the periods it touches (function
-- analytics_changes_session_requests_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_session_requests_ins_del
AFTER INSERT OR DELETE ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.analytics_changes_session_requests_trg();

-- analytics_changes: a session request's change queues the periods it touches (function
-- analytics_changes_session_requests_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_session_requests_upd
AFTER UPDATE ON session_requests
FOR EACH ROW
WHEN (
    (
        old.status, old.workshop_id, old.preferred_workshop_id, old.routing_type, old.escalated_at,
        old.created_at, old.accepted_at, old.session_id, old.declined_by
    )
    IS DISTINCT FROM
    (
        new.status, new.workshop_id, new.preferred_workshop_id, new.routing_type, new.escalated_at,
        new.created_at, new.accepted_at, new.session_id, new.declined_by
    )
)
EXECUTE FUNCTION ssr_private.analytics_changes_session_requests_trg();

-- analytics rollups: a TRUNCATE of session_requests (no row triggers fire) recounts them (function
-- analytics_rollups_truncate_trg, db/functions/). One file per table: no transaction of the migration runner
-- locks both sessions and session_requests.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_session_requests
AFTER TRUNCATE ON session_requests
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- Function ssr_private.refund_closed_request (db/functions/refunds/ssr_private.refund_closed_request.sql): A
-- paid request that ends unserved owes its customer a refund, however it ends: expired by the sweep
-- (expired_no_mechanic), cancelled by the customer (cancel_customer_session_request sets refunds.reason =
-- customer_cancelled) or cancelled otherwise (request_cancelled). In the same transaction as the transition:
-- the refund row (refund_enqueue, one per purchase) and the session marked cancelled (it will not take place;
-- the refund worker marks it refunded once Stripe refunded it). Requests without a purchase (no Stripe
-- payment) only get their session cancelled.
CREATE OR REPLACE TRIGGER refunds_request_closed
AFTER UPDATE OF status ON session_requests
FOR EACH ROW
WHEN (OLD.status = 'pending' AND NEW.status IN ('expired', 'cancelled'))
EXECUTE FUNCTION ssr_private.refund_closed_request();

-- Function ssr_private.routing_audit_request (db/functions/routing/ssr_private.routing_audit_request.sql):
-- Audit and notifications of the transitions of a request, however they happen (accept_session_request,
-- sweep_session_requests, cancel_session_request or a direct UPDATE): pending -> accepted / expired /
-- cancelled, and the escalation of a hybrid request (escalated_at set). Each writes a routing_events row and
-- the outbox rows. The reason of an escalation is routing.reason when the caller set it (a decline by the
-- last available mechanic of the preferred workshop: preferred_workshop_declined), else
-- preferred_workshop_unavailable (window cut short) or window_passed. Creation is recorded by
-- create_session_request, which knows the candidate counts.
CREATE OR REPLACE TRIGGER routing_audit_request
AFTER UPDATE OF status, escalated_at ON session_requests
FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status OR old.escalated_at IS DISTINCT FROM new.escalated_at)
EXECUTE FUNCTION ssr_private.routing_audit_request();

-- Function ssr_private.routing_sync_session (db/functions/routing/ssr_private.routing_sync_session.sql):
-- Auto-population, part 2: the session staffed by a request mirrors it: sessions.mechanic_id and
-- sessions.workshop_id (the serving workshop) from the request once accepted, sessions.preferred_workshop_id
-- from the request (from creation).
CREATE OR REPLACE TRIGGER routing_sync_session
AFTER INSERT OR UPDATE OF mechanic_id, workshop_id, preferred_workshop_id, session_id ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_sync_session();
