-- analytics rollups: a TRUNCATE of refunds (no row triggers fire) recounts them
-- (function analytics_rollups_truncate_trg, db/functions/). One file per table.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_refunds
AFTER TRUNCATE ON refunds
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();
