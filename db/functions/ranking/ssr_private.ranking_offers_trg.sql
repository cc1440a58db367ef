-- ranking_offers_trg: an offer's outcome is queued for its mechanic's reliability rollups,
-- once, when it is set (an offer inserted with its outcome, or an UPDATE from NULL to an
-- outcome): accepted, declined and timed_out count (a timeout as a decline). One row appended
-- to ssr_private.ranking_offer_changes, with the UTC day and the response time's histogram
-- bucket (seconds from offered_at to outcome_at; a timeout counts its whole wait, to
-- expires_at; buckets of ssr_private.analytics_bucket); the worker's ranking_changes job
-- applies them to mechanic_reliability, mechanic_reliability_days and mechanic_response_days
-- and rescores (ssr_private.ranking_apply_offer_changes), so an accept and the timeout sweep
-- take no rollup row and pay no rescoring. Rescinded offers are nobody's answer: they count
-- for nothing but exposure, and do not fire it. An outcome changed once set, or a deleted
-- offer, is not undone here: ssr_private.ranking_rebuild() recounts. No errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.ranking_offers_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF NEW.outcome IN ('accepted', 'declined', 'timed_out') THEN
        INSERT INTO ssr_private.ranking_offer_changes (mechanic_id, outcome, day, bucket)
        VALUES (
            NEW.mechanic_id,
            NEW.outcome,
            (NEW.outcome_at AT TIME ZONE 'UTC')::date,
            ssr_private.analytics_bucket(extract(EPOCH FROM (
                CASE WHEN NEW.outcome = 'timed_out' THEN NEW.expires_at ELSE NEW.outcome_at END - NEW.offered_at
            )))
        );
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_offers_trg() IS
'Trigger: an offer''s outcome is queued for its mechanic''s reliability rollups (applied by the ranking_changes job).';
