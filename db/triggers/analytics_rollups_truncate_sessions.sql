-- analytics rollups: a TRUNCATE of sessions (no row triggers fire) recounts them
-- (function analytics_rollups_truncate_trg, db/functions/). One file per table: no
-- transaction of the migration runner locks both sessions and session_requests.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_sessions
AFTER TRUNCATE ON sessions
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();
