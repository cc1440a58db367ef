-- ranking_refresh_mechanic: recomputes one mechanic's mechanic_rankings row (rank_score under
-- the default policy's parameters, ssr_private.rank_figures) at p_now; called by the
-- ranking triggers on offers, reviews and sessions after they moved the rollups, and by the
-- job ranking for scores that only time moves (windows sliding, the cold start ending,
-- exposure decaying). Unknown mechanic: nothing. Returns the score. No errors.
CREATE OR REPLACE FUNCTION ssr_private.ranking_refresh_mechanic(
    p_mechanic_id uuid,
    p_now timestamptz DEFAULT now(),
    p_params jsonb DEFAULT NULL
) RETURNS double precision
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_score double precision;
    v_reliability double precision;
BEGIN
    SELECT f.rank_score, f.reliability INTO v_score, v_reliability
    FROM ssr_private.rank_figures(p_mechanic_id, coalesce(p_params, ssr_private.default_policy_params()), p_now) AS f;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO mechanic_rankings AS mr (mechanic_id, rank_score, reliability, computed_at)
    VALUES (p_mechanic_id, v_score, v_reliability, p_now)
    ON CONFLICT (mechanic_id) DO UPDATE
    SET rank_score = excluded.rank_score, reliability = excluded.reliability, computed_at = excluded.computed_at;
    RETURN v_score;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_refresh_mechanic(uuid, timestamptz, jsonb) IS
'Recomputes one mechanic''s rank score (mechanic_rankings) under the default policy''s parameters.';
