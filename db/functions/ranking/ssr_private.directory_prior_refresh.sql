-- directory_prior_refresh: the job ranking's part for the directory (every minute).
-- 1. Each workshop's reliability (workshop_stats.reliability): the mean of its active
--    mechanics' mechanic_rankings.reliability, 4 decimals, written where it changed (its
--    trigger rescores the workshop).
-- 2. The snapshot of ranking_platform (directory_prior, directory_strength,
--    directory_weight) moved to the platform's mean stars now (every review; 4.0 before any),
--    the default policy's rank_prior_strength and rank_directory_weight, when the mean moved
--    by 0.01 star or more since the last snapshot, a parameter changed, or p_force; then every
--    workshop whose score changes is rescored (workshop_stats.directory_score).
-- Rows are written in workshop id order (the order the other writers of several
-- workshop_stats rows lock them in). Between two snapshots the directory's order moves only
-- with each workshop's own reviews and reliability (a page does not reshuffle with every
-- review elsewhere). Returns the number of workshops written. No errors.
CREATE OR REPLACE FUNCTION ssr_private.directory_prior_refresh(p_force boolean DEFAULT FALSE)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_params jsonb := ssr_private.default_policy_params();
    v_strength numeric := (v_params ->> 'rank_prior_strength')::numeric;
    v_weight numeric := (v_params ->> 'rank_directory_weight')::numeric;
    v_mean numeric;
    v_platform ranking_platform;
    v_row record;
    v_done integer := 0;
BEGIN
    FOR v_row IN
        SELECT ws.workshop_id, r.reliability
        FROM workshop_stats AS ws
        LEFT JOIN LATERAL (
            SELECT round(avg(mr.reliability)::numeric, 4)::double precision AS reliability
            FROM mechanics AS m
            INNER JOIN mechanic_rankings AS mr ON m.id = mr.mechanic_id
            WHERE m.workshop_id = ws.workshop_id AND m.status = 'active' AND mr.reliability IS NOT NULL
        ) AS r ON TRUE
        WHERE ws.reliability IS DISTINCT FROM r.reliability
        ORDER BY ws.workshop_id
    LOOP
        UPDATE workshop_stats AS ws SET reliability = v_row.reliability WHERE ws.workshop_id = v_row.workshop_id;
        v_done := v_done + 1;
    END LOOP;

    SELECT * INTO v_platform FROM ranking_platform AS p WHERE p.id FOR UPDATE;
    v_mean := coalesce(round(v_platform.rating_sum::numeric / nullif(v_platform.review_count, 0), 4), 4.0);
    IF
        NOT p_force
        AND abs(v_mean - coalesce(v_platform.directory_prior, 4.0)) < 0.01
        AND v_strength = coalesce(v_platform.directory_strength, 20)
        AND v_weight = coalesce(v_platform.directory_weight, 0)
        THEN
        RETURN v_done;
    END IF;
    UPDATE ranking_platform AS p
    SET directory_prior = v_mean, directory_strength = v_strength, directory_weight = v_weight
    WHERE p.id;
    FOR v_row IN
        SELECT ws.workshop_id FROM workshop_stats AS ws
        WHERE
            ws.directory_score
            IS DISTINCT FROM ssr_private.directory_score(ws.rating_sum, ws.review_count, ws.reliability)
        ORDER BY ws.workshop_id
    LOOP
        UPDATE workshop_stats AS ws
        SET directory_score = ssr_private.directory_score(ws.rating_sum, ws.review_count, ws.reliability)
        WHERE ws.workshop_id = v_row.workshop_id;
        v_done := v_done + 1;
    END LOOP;
    RETURN v_done;
END
$$;

COMMENT ON FUNCTION ssr_private.directory_prior_refresh(boolean) IS
'Job ranking, directory part: workshops'' reliability, and the prior moved to the platform mean (when it moved by '
'0.01 star or a parameter changed), rescoring the workshops.';
