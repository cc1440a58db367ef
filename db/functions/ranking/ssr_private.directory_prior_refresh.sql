-- directory_prior_refresh: moves the directory's prior to the platform's mean now
-- (ranking_platform: every review's stars; 4.0 before any) and its strength to the default
-- policy's rank_prior_strength, when the mean moved by 0.01 star or more since the last
-- snapshot, or the strength changed, or p_force; then rescores every workshop whose score
-- changes (workshop_stats.directory_score), in workshop id order (the order the other
-- writers of several workshop_stats rows lock them in). The job ranking runs it every
-- minute: between two snapshots the directory's order moves only with each workshop's own
-- reviews (a page does not reshuffle with every review elsewhere). Returns the number of
-- workshops rescored (0: the snapshot stands). No errors.
CREATE OR REPLACE FUNCTION ssr_private.directory_prior_refresh(p_force boolean DEFAULT FALSE)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_mean numeric;
    v_strength numeric := (ssr_private.ranking_params() ->> 'rank_prior_strength')::numeric;
    v_platform ranking_platform;
    v_id uuid;
    v_done integer := 0;
BEGIN
    SELECT * INTO v_platform FROM ranking_platform AS p WHERE p.id FOR UPDATE;
    v_mean := coalesce(round(v_platform.rating_sum::numeric / nullif(v_platform.review_count, 0), 4), 4.0);
    IF
        NOT p_force
        AND abs(v_mean - coalesce(v_platform.directory_prior, 4.0)) < 0.01
        AND v_strength = coalesce(v_platform.directory_strength, 20)
        THEN
        RETURN 0;
    END IF;
    UPDATE ranking_platform AS p SET directory_prior = v_mean, directory_strength = v_strength WHERE p.id;
    FOR v_id IN
        SELECT ws.workshop_id FROM workshop_stats AS ws
        WHERE ws.directory_score IS DISTINCT FROM ssr_private.directory_score(ws.rating_sum, ws.review_count)
        ORDER BY ws.workshop_id
    LOOP
        UPDATE workshop_stats AS ws
        SET directory_score = ssr_private.directory_score(ws.rating_sum, ws.review_count)
        WHERE ws.workshop_id = v_id;
        v_done := v_done + 1;
    END LOOP;
    RETURN v_done;
END
$$;

COMMENT ON FUNCTION ssr_private.directory_prior_refresh(boolean) IS
'Moves the directory''s prior to the platform mean (when it moved by 0.01 star) and rescores the workshops.';
