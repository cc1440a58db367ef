-- analytics rollups: a TRUNCATE of mechanic_availability (no row triggers fire) recounts them
-- (function analytics_rollups_truncate_trg, db/functions/). One file per table.
CREATE OR REPLACE TRIGGER analytics_rollups_truncate_mechanic_availability
AFTER TRUNCATE ON mechanic_availability
FOR EACH STATEMENT EXECUTE FUNCTION ssr_private.analytics_rollups_truncate_trg();
