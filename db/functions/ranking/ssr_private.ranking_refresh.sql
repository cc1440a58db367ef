-- ranking_refresh: the job ranking (the worker runs it every 60 s): rescores at most p_limit
-- mechanics, in this order: active mechanics without a score; mechanics offered a request
-- since their score was computed (their exposure moved: offers_mechanic_offered_at_idx, one
-- probe each); then the oldest scores (those computed in the last p_min_age not at all).
-- Exposure is thus at most a minute old for up to p_limit mechanics offered work a minute,
-- and what only time moves (the rolling windows, the end of the cold start) at most
-- (active mechanics / p_limit) minutes; reviews and session ends rescore at once (their
-- triggers), answers and timeouts of offers within a run of the job ranking_changes
-- (ssr_private.ranking_apply_offer_changes). Returns the number of mechanics rescored. No errors.
CREATE OR REPLACE FUNCTION ssr_private.ranking_refresh(
    p_limit integer DEFAULT 500,
    p_min_age interval DEFAULT '60 seconds'
) RETURNS integer
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
    FOR v_id IN
        SELECT c.mechanic_id
        FROM (
            (
                SELECT m.id AS mechanic_id, 1 AS pri, NULL::timestamptz AS computed_at FROM mechanics AS m
                WHERE
                    m.status = 'active'
                    AND NOT EXISTS (SELECT 1 FROM mechanic_rankings AS mr WHERE mr.mechanic_id = m.id)
                LIMIT p_limit
            )
            UNION ALL
            (
                SELECT mr.mechanic_id, 2, mr.computed_at FROM mechanic_rankings AS mr
                WHERE EXISTS (
                    SELECT 1 FROM offers AS o
                    WHERE o.mechanic_id = mr.mechanic_id AND o.offered_at > mr.computed_at
                )
                LIMIT p_limit
            )
            UNION ALL
            (
                SELECT mr.mechanic_id, 3, mr.computed_at FROM mechanic_rankings AS mr
                WHERE mr.computed_at < now() - p_min_age
                ORDER BY mr.computed_at
                LIMIT p_limit
            )
        ) AS c
        GROUP BY c.mechanic_id
        ORDER BY min(c.pri), min(c.computed_at) NULLS FIRST, c.mechanic_id
        LIMIT p_limit
    LOOP
        PERFORM ssr_private.ranking_refresh_mechanic(v_id, now(), v_params);
        v_done := v_done + 1;
    END LOOP;
    RETURN v_done;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_refresh(integer, interval) IS
'Job ranking: rescores the mechanics with the oldest (or no) rank score, at most p_limit.';
