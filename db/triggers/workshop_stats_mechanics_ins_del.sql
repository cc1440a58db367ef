-- workshop_stats: a new or deleted mechanic counts in its workshop's mechanic totals
-- (function workshop_stats_mechanics_trg, db/functions/).
CREATE OR REPLACE TRIGGER workshop_stats_mechanics_ins_del
AFTER INSERT OR DELETE ON mechanics
FOR EACH ROW EXECUTE FUNCTION ssr_private.workshop_stats_mechanics_trg();
