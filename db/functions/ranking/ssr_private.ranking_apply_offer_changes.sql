-- ranking_apply_offer_changes: the job ranking_changes (the worker runs it every 5 s): takes at
-- most p_limit queued answers of offers (ssr_private.ranking_offer_changes, oldest first; rows
-- another run holds are skipped, so concurrent runs take disjoint batches), adds them to
-- mechanic_reliability.offers_resolved, mechanic_reliability_days (by outcome) and
-- mechanic_response_days (the response histogram), one upsert per rollup for the whole batch,
-- deletes them, and rescores each mechanic named (ssr_private.ranking_refresh_mechanic): a
-- mechanic's figures are at most one run behind their answers. Returns the number of answers
-- applied. No errors.
CREATE OR REPLACE FUNCTION ssr_private.ranking_apply_offer_changes(p_limit integer DEFAULT 10000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_params jsonb;
    v_ids uuid[];
    v_id uuid;
    v_done integer;
BEGIN
    -- One statement: the batch taken, and its three rollups' upserts from it (each a data-
    -- modifying WITH of the same statement, on its own table; the mechanics named come back
    -- through totals).
    WITH taken AS (
        DELETE FROM ssr_private.ranking_offer_changes AS q
        WHERE q.id IN (
            SELECT c.id FROM ssr_private.ranking_offer_changes AS c
            ORDER BY c.id
            LIMIT greatest(coalesce(p_limit, 10000), 1)
            FOR UPDATE SKIP LOCKED
        )
        RETURNING q.mechanic_id, q.outcome, q.day, q.bucket
    ),

    totals AS (
        INSERT INTO mechanic_reliability AS r (mechanic_id, offers_resolved, updated_at)
        SELECT t.mechanic_id, count(*), now() FROM taken AS t GROUP BY t.mechanic_id
        ORDER BY t.mechanic_id
        ON CONFLICT (mechanic_id) DO UPDATE
        SET offers_resolved = r.offers_resolved + excluded.offers_resolved, updated_at = now()
        RETURNING r.mechanic_id
    ),

    days AS (
        INSERT INTO mechanic_reliability_days AS d (mechanic_id, day, offers_resolved, accepted, declined, timed_out)
        SELECT
            t.mechanic_id,
            t.day,
            count(*),
            count(*) FILTER (WHERE t.outcome = 'accepted'),
            count(*) FILTER (WHERE t.outcome = 'declined'),
            count(*) FILTER (WHERE t.outcome = 'timed_out')
        FROM taken AS t
        GROUP BY t.mechanic_id, t.day
        ORDER BY t.mechanic_id, t.day
        ON CONFLICT (mechanic_id, day) DO UPDATE
        SET
            offers_resolved = d.offers_resolved + excluded.offers_resolved,
            accepted = d.accepted + excluded.accepted,
            declined = d.declined + excluded.declined,
            timed_out = d.timed_out + excluded.timed_out
        RETURNING d.mechanic_id
    ),

    responses AS (
        INSERT INTO mechanic_response_days AS h (mechanic_id, day, bucket, responses)
        SELECT t.mechanic_id, t.day, t.bucket, count(*)
        FROM taken AS t
        WHERE t.bucket IS NOT NULL
        GROUP BY t.mechanic_id, t.day, t.bucket
        ORDER BY t.mechanic_id, t.day, t.bucket
        ON CONFLICT (mechanic_id, day, bucket) DO UPDATE SET responses = h.responses + excluded.responses
        RETURNING h.mechanic_id
    )

    SELECT
        (SELECT count(*) FROM taken),
        (SELECT array_agg(DISTINCT x.mechanic_id ORDER BY x.mechanic_id) FROM totals AS x)
    INTO v_done, v_ids;  -- days and responses run too: a data-modifying WITH always runs to completion

    IF coalesce(v_done, 0) = 0 THEN
        RETURN 0;
    END IF;
    v_params := ssr_private.default_policy_params();
    FOREACH v_id IN ARRAY v_ids LOOP
        PERFORM ssr_private.ranking_refresh_mechanic(v_id, now(), v_params);
    END LOOP;
    RETURN v_done;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_apply_offer_changes(integer) IS
'Job: applies queued answers of offers to the reliability rollups and rescores their mechanics; returns how many.';
