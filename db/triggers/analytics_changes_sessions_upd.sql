-- analytics_changes: a session's change queues the periods it touches (function analytics_changes_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_sessions_upd
AFTER UPDATE ON sessions
FOR EACH ROW
WHEN (
    (old.workshop_id, old.preferred_workshop_id, old.status, old.amount_total_minor, old.currency, old.created_at)
    IS DISTINCT FROM
    (new.workshop_id, new.preferred_workshop_id, new.status, new.amount_total_minor, new.currency, new.created_at)
)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();
