-- analytics rollups: a TRUNCATE of session_requests (no row triggers fire) recounts them
-- (function analytics_rollups_truncate_trg, db/functions/). One file per table: no
-- transaction of the migration runner locks both sessions and session_requests.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_session_requests
AFTER TRUNCATE ON session_requests
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();
