-- analytics_changes: a session request's change queues the periods it touches (function analytics_changes_session_requests_trg, db/functions/).
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
