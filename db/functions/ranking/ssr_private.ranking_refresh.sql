-- ranking_refresh: the job ranking (the worker runs it every 60 s): rescoring the mechanics
-- whose score is oldest, mechanics without a score first, at most p_limit of them, those
-- scored in the last p_min_age only if nothing older is left. What only time moves (the
-- rolling windows, the end of the cold start, the exposure window) is thus at most
-- (active mechanics / p_limit) minutes old; outcomes, reviews and session ends rescore at
-- once (their triggers). Returns the number of mechanics rescored. No errors.
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
    v_params jsonb := ssr_private.ranking_params();
    v_id uuid;
    v_done integer := 0;
BEGIN
    FOR v_id IN
        (
            SELECT m.id FROM mechanics AS m
            WHERE m.status = 'active' AND NOT EXISTS (SELECT 1 FROM mechanic_rankings AS mr WHERE mr.mechanic_id = m.id)
            LIMIT p_limit
        )
        UNION ALL
        (
            SELECT mr.mechanic_id FROM mechanic_rankings AS mr
            WHERE mr.computed_at < now() - p_min_age
            ORDER BY mr.computed_at
            LIMIT p_limit
        )
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
