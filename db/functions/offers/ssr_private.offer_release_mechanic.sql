-- offer_release_mechanic: rescinds the live offers of mechanics who stopped taking work
-- (went offline, were taken away by presence), reason p_reason (mechanic_offline,
-- mechanic_away), so their requests' next waves need not wait for the timeouts. Offers a
-- concurrent accept, decline or sweep holds are skipped (SKIP LOCKED: the caller holds
-- the mechanic's row, which an accept locks after the offer's, so waiting could deadlock);
-- they end by that transaction or time out. Returns how many were rescinded.
CREATE OR REPLACE FUNCTION ssr_private.offer_release_mechanic(p_mechanic_ids uuid[], p_reason text, p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    WITH live AS (
        SELECT o.id
        FROM offers AS o
        WHERE o.mechanic_id = ANY(p_mechanic_ids) AND o.outcome IS NULL
        FOR UPDATE SKIP LOCKED
    )

    UPDATE offers AS o
    SET outcome = 'rescinded', outcome_at = greatest(p_now, o.offered_at), reason = p_reason
    FROM live
    WHERE o.id = live.id AND o.outcome IS NULL;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION ssr_private.offer_release_mechanic(uuid[], text, timestamptz) IS
'Rescinds the live offers of mechanics who stopped taking work (locked ones skipped); returns how many.';

REVOKE ALL ON FUNCTION ssr_private.offer_release_mechanic(uuid[], text, timestamptz) FROM PUBLIC;
