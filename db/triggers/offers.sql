-- Every trigger on offers, in firing order (BEFORE, then AFTER; by name within each).

-- The ranking reads rollups, not offers: an offer made with its answer (or timeout) counts at once; a rescind is nobody's answer.
CREATE OR REPLACE TRIGGER ranking_offers_ins
AFTER INSERT ON offers
FOR EACH ROW
WHEN (new.outcome IN ('accepted', 'declined', 'timed_out'))
EXECUTE FUNCTION ssr_private.ranking_offers_trg();

-- The ranking reads rollups, not offers: an answer or timeout (set once) moves the mechanic's figures and score; the
-- rescinds of an accept (every other live offer of the request) cost the accept nothing.
CREATE OR REPLACE TRIGGER ranking_offers_upd
AFTER UPDATE OF outcome ON offers
FOR EACH ROW
WHEN (old.outcome IS NULL AND new.outcome IN ('accepted', 'declined', 'timed_out'))
EXECUTE FUNCTION ssr_private.ranking_offers_trg();
