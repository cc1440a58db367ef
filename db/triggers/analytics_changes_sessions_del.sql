-- analytics_changes: a session's change queues the periods it touches (function analytics_changes_sessions_trg, db/functions/).
CREATE OR REPLACE TRIGGER analytics_changes_sessions_del
AFTER DELETE ON sessions
FOR EACH ROW
WHEN (old.workshop_id IS NOT NULL OR old.preferred_workshop_id IS NOT NULL)
EXECUTE FUNCTION ssr_private.analytics_changes_sessions_trg();
