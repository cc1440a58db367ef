-- ranking_offers_trg: an offer's outcome moves its mechanic's reliability rollups, once,
-- when it is set (an offer inserted with its outcome, or an UPDATE from NULL to an
-- outcome): accepted, declined and timed_out count (a timeout as a decline) into
-- mechanic_reliability.offers_resolved, the UTC day's mechanic_reliability_days and the
-- response histogram mechanic_response_days (seconds from offered_at to outcome_at; a
-- timeout counts its whole wait, to expires_at; buckets of ssr_private.analytics_bucket).
-- Rescinded offers are nobody's answer: they count for nothing but exposure, and do not fire
-- it (an accept rescinds every other live offer of its request: no rescoring in its
-- transaction). Then the mechanic is rescored (ssr_private.ranking_refresh_mechanic). An outcome changed once set,
-- or a deleted offer, is not undone here: ssr_private.ranking_rebuild() recounts.
-- No errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.ranking_offers_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_day date;
    v_seconds double precision;
BEGIN
    IF NEW.outcome IN ('accepted', 'declined', 'timed_out') THEN
        v_day := (NEW.outcome_at AT TIME ZONE 'UTC')::date;
        v_seconds := extract(EPOCH FROM (
            CASE WHEN NEW.outcome = 'timed_out' THEN NEW.expires_at ELSE NEW.outcome_at END - NEW.offered_at
        ));
        INSERT INTO mechanic_reliability AS r (mechanic_id, offers_resolved, updated_at)
        VALUES (NEW.mechanic_id, 1, now())
        ON CONFLICT (mechanic_id) DO UPDATE
        SET offers_resolved = r.offers_resolved + 1, updated_at = now();
        INSERT INTO mechanic_reliability_days AS d (mechanic_id, day, offers_resolved, accepted, declined, timed_out)
        VALUES (
            NEW.mechanic_id, v_day, 1, (NEW.outcome = 'accepted')::integer, (NEW.outcome = 'declined')::integer,
            (NEW.outcome = 'timed_out')::integer
        )
        ON CONFLICT (mechanic_id, day) DO UPDATE
        SET
            offers_resolved = d.offers_resolved + 1,
            accepted = d.accepted + excluded.accepted,
            declined = d.declined + excluded.declined,
            timed_out = d.timed_out + excluded.timed_out;
        INSERT INTO mechanic_response_days AS h (mechanic_id, day, bucket, responses)
        VALUES (NEW.mechanic_id, v_day, ssr_private.analytics_bucket(v_seconds), 1)
        ON CONFLICT (mechanic_id, day, bucket) DO UPDATE SET responses = h.responses + 1;
    END IF;
    PERFORM ssr_private.ranking_refresh_mechanic(NEW.mechanic_id);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_offers_trg() IS
'Trigger: an offer''s outcome moves its mechanic''s reliability rollups and rescores them.';
