-- Every trigger on offers, in firing order (BEFORE, then AFTER; by name within each).

-- The ranking reads rollups, not offers: an offer made with its outcome counts at once.
CREATE OR REPLACE TRIGGER ranking_offers_ins
AFTER INSERT ON offers
FOR EACH ROW
WHEN (new.outcome IS NOT NULL)
EXECUTE FUNCTION ssr_private.ranking_offers_trg();

-- The ranking reads rollups, not offers: an outcome set (once) moves the mechanic's figures and score.
CREATE OR REPLACE TRIGGER ranking_offers_upd
AFTER UPDATE OF outcome ON offers
FOR EACH ROW
WHEN (old.outcome IS NULL AND new.outcome IS NOT NULL)
EXECUTE FUNCTION ssr_private.ranking_offers_trg();
