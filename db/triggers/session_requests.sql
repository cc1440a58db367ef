-- Every trigger on session_requests, in firing order (BEFORE, then AFTER; by name within each:
-- PostgreSQL fires the triggers of one event in name order). Applied in one transaction
-- that locks session_requests only.

-- What the offer rule reads besides the routing type (skills, priority, the returning customer's window), set once.
CREATE OR REPLACE TRIGGER session_request_eligibility
BEFORE INSERT ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.session_request_eligibility_trg();

-- A request is served by its accepting mechanic's workshop, whoever sets the mechanic (accept or a direct UPDATE).
CREATE OR REPLACE TRIGGER session_request_populate_workshop
BEFORE INSERT OR UPDATE OF mechanic_id ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.session_request_populate_workshop();

-- The BI rollups are recounted per queued period: a request added or removed changes its routing type's and workshops' days.
CREATE OR REPLACE TRIGGER analytics_changes_session_requests_ins_del
AFTER INSERT OR DELETE ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.analytics_changes_session_requests_trg();

-- The BI rollups are recounted per queued period: a request changed in a column they read changes the periods before and after.
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

-- A TRUNCATE fires no row trigger: the analytics rollups are recounted from scratch, or they would count rows that are gone.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_session_requests
AFTER TRUNCATE ON session_requests
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();

-- An assigned request's status changed: queue it for the experiment rollup.
CREATE OR REPLACE TRIGGER experiment_changes_session_requests
AFTER UPDATE OF status ON session_requests
FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status)
EXECUTE FUNCTION ssr_private.experiment_changes_trg();

-- A request that leaves pending, however, rescinds its live offers (the accepting mechanic's is recorded accepted
-- by accept); only requests distributed in waves have live offers (broadcast writes its rows when one acts).
CREATE OR REPLACE TRIGGER offers_request_closed
AFTER UPDATE OF status ON session_requests
FOR EACH ROW
WHEN (old.status = 'pending' AND new.status <> 'pending' AND new.dispatch_mode IS NOT NULL)
EXECUTE FUNCTION ssr_private.offers_request_closed_trg();

-- A paid request that ends unserved, however it ends, owes a refund and its session will not happen: both in one transaction.
CREATE OR REPLACE TRIGGER refunds_request_closed
AFTER UPDATE OF status ON session_requests
FOR EACH ROW
WHEN (OLD.status = 'pending' AND NEW.status IN ('expired', 'cancelled'))
EXECUTE FUNCTION ssr_private.refunds_request_closed();

-- Every transition of a request is audited and notified however it happens (accept, sweep, cancel or a direct UPDATE).
CREATE OR REPLACE TRIGGER routing_audit_request
AFTER UPDATE OF status, escalated_at ON session_requests
FOR EACH ROW
WHEN (old.status IS DISTINCT FROM new.status OR old.escalated_at IS DISTINCT FROM new.escalated_at)
EXECUTE FUNCTION ssr_private.routing_audit_request();

-- The session staffed by a request must show the same mechanic and workshops, whoever changes the request.
CREATE OR REPLACE TRIGGER routing_sync_session
AFTER INSERT OR UPDATE OF mechanic_id, workshop_id, preferred_workshop_id, session_id ON session_requests
FOR EACH ROW EXECUTE FUNCTION ssr_private.routing_sync_session();
