-- ranking_rebuild: recounts the ranking's rollups from the base tables (after a bulk load
-- with triggers off, or to check them: a test keeps the triggers' rollups equal to this
-- recount) and rescores every mechanic: mechanic_reliability (reviews, resolved offers),
-- mechanic_reliability_days and mechanic_response_days (offers by outcome day; sessions by
-- end day), ranking_platform; the queue of answers not yet applied
-- (ssr_private.ranking_offer_changes) is emptied, the recount counting them. Locks the rollup
-- tables and the queue for the recount. Returns the number of
-- mechanics scored. No errors.
CREATE OR REPLACE FUNCTION ssr_private.ranking_rebuild()
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_params jsonb := ssr_private.default_policy_params();
    v_id uuid;
    v_done integer := 0;
BEGIN
    LOCK TABLE mechanic_reliability, mechanic_reliability_days, mechanic_response_days, ranking_platform,
    ssr_private.ranking_offer_changes
    IN EXCLUSIVE MODE;
    DELETE FROM ssr_private.ranking_offer_changes;  -- the recount below counts them from the offers
    DELETE FROM mechanic_reliability;
    DELETE FROM mechanic_reliability_days;
    DELETE FROM mechanic_response_days;

    INSERT INTO mechanic_reliability (mechanic_id, review_count, rating_sum, offers_resolved)
    SELECT
        m.id,
        coalesce((SELECT count(*) FROM reviews AS rv WHERE rv.mechanic_id = m.id), 0),
        coalesce((SELECT sum(rv.rating) FROM reviews AS rv WHERE rv.mechanic_id = m.id), 0),
        coalesce((
            SELECT count(*) FROM offers AS o
            WHERE o.mechanic_id = m.id AND o.outcome IN ('accepted', 'declined', 'timed_out')
        ), 0)
    FROM mechanics AS m
    WHERE
        EXISTS (SELECT 1 FROM reviews AS rv WHERE rv.mechanic_id = m.id)
        OR EXISTS (SELECT 1 FROM offers AS o WHERE o.mechanic_id = m.id AND o.outcome IS NOT NULL);

    INSERT INTO mechanic_reliability_days AS d (
        mechanic_id, day, offers_resolved, accepted, declined, timed_out, sessions_ended, sessions_missed
    )
    SELECT x.mechanic_id, x.day, sum(x.resolved), sum(x.accepted), sum(x.declined), sum(x.timed_out),
        sum(x.ended), sum(x.missed)
    FROM (
        SELECT
            o.mechanic_id, (o.outcome_at AT TIME ZONE 'UTC')::date AS day, 1 AS resolved,
            (o.outcome = 'accepted')::integer AS accepted, (o.outcome = 'declined')::integer AS declined,
            (o.outcome = 'timed_out')::integer AS timed_out, 0 AS ended, 0 AS missed
        FROM offers AS o
        WHERE o.outcome IN ('accepted', 'declined', 'timed_out')
        UNION ALL
        SELECT
            s.mechanic_id, (coalesce(s.ended_at, s.created_at) AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 1,
            (s.status IN ('cancelled', 'refunded') AND s.started_at IS NULL)::integer
        FROM sessions AS s
        WHERE s.mechanic_id IS NOT NULL AND s.status IN ('completed', 'no_show', 'cancelled', 'refunded')
    ) AS x
    GROUP BY x.mechanic_id, x.day;

    INSERT INTO mechanic_response_days (mechanic_id, day, bucket, responses)
    SELECT
        o.mechanic_id, (o.outcome_at AT TIME ZONE 'UTC')::date,
        ssr_private.analytics_bucket(extract(EPOCH FROM (
            CASE WHEN o.outcome = 'timed_out' THEN o.expires_at ELSE o.outcome_at END - o.offered_at
        ))),
        count(*)
    FROM offers AS o
    WHERE o.outcome IN ('accepted', 'declined', 'timed_out')
    GROUP BY 1, 2, 3;

    UPDATE ranking_platform AS p
    SET
        review_count = (SELECT count(*) FROM reviews),
        rating_sum = coalesce((SELECT sum(rv.rating) FROM reviews AS rv), 0)
    WHERE p.id;

    FOR v_id IN SELECT m.id FROM mechanics AS m ORDER BY m.id LOOP
        PERFORM ssr_private.ranking_refresh_mechanic(v_id, now(), v_params);
        v_done := v_done + 1;
    END LOOP;
    RETURN v_done;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_rebuild() IS
'Recounts the ranking''s rollups from offers, reviews and sessions, and rescores every mechanic.';
