-- analytics rollups: a TRUNCATE of session_request_declines (no row triggers fire) recounts them
-- (function analytics_rollups_truncate_trg, db/functions/). One file per table.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_session_request_declines
AFTER TRUNCATE ON session_request_declines
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();
