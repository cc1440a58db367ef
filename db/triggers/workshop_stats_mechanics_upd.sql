-- workshop_stats: a mechanic's change of workshop, status or availability moves the counts
-- (function workshop_stats_mechanics_trg, db/functions/).
-- WHEN is evaluated on the final row, so changes made by BEFORE triggers count too.
CREATE OR REPLACE TRIGGER workshop_stats_mechanics_upd
AFTER UPDATE ON mechanics
FOR EACH ROW
WHEN (
    old.workshop_id IS DISTINCT FROM new.workshop_id
    OR old.status IS DISTINCT FROM new.status
    OR old.is_available IS DISTINCT FROM new.is_available
)
EXECUTE FUNCTION ssr_private.workshop_stats_mechanics_trg();
