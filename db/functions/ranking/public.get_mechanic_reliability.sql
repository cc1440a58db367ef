-- get_mechanic_reliability: a mechanic's own figures, for their dashboard: the rank score
-- and every term it is made of, under the default policy's parameters
-- (ssr_private.rank_figures; the formula is docs/RANKING.md), computed now, plus the
-- parameters that decide what counts (window sizes, minimum counts, target) so the page can
-- say "not counted yet: 4 of 10 offers". Read only.
-- Errors, in this order: SR400 mechanic_id missing; SR403 (COLUMN mechanic_id) the
-- transaction does not verifiably act for that mechanic (ssr_private.assert_acting_for);
-- SR404 unknown mechanic.
CREATE OR REPLACE FUNCTION get_mechanic_reliability(p_mechanic_id uuid)
RETURNS TABLE (
    mechanic_id uuid,
    rank_score double precision,
    quality double precision,
    review_count bigint,
    rating_mean double precision,
    platform_mean double precision,
    shrunk_rating double precision,
    prior_strength double precision,
    acceptance_offers integer,
    acceptance_rate double precision,
    acceptance_window integer,
    minimum_count integer,
    response_count bigint,
    response_percentile double precision,
    response_seconds double precision,
    response_target_seconds integer,
    sessions_ended bigint,
    no_show_rate double precision,
    no_show_minimum integer,
    window_days integer,
    offers_resolved bigint,
    cold_start_boost double precision,
    exposure_offers integer,
    exposure_cap integer,
    exposure_capped boolean,
    computed_at timestamptz
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_params jsonb;
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    IF NOT EXISTS (SELECT 1 FROM mechanics AS m WHERE m.id = p_mechanic_id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    v_params := ssr_private.default_policy_params();
    RETURN QUERY
    SELECT
        f.mechanic_id, f.rank_score, f.quality, f.review_count, f.rating_mean, f.platform_mean, f.shrunk_rating,
        (v_params ->> 'rank_prior_strength')::double precision,
        f.acceptance_offers, f.acceptance_rate, (v_params ->> 'rank_acceptance_window')::integer,
        (v_params ->> 'rank_acceptance_min')::integer,
        f.response_count, (v_params ->> 'rank_response_percentile')::double precision, f.response_seconds,
        (v_params ->> 'rank_response_target_seconds')::integer,
        f.sessions_ended, f.no_show_rate, (v_params ->> 'rank_no_show_min')::integer,
        (v_params ->> 'rank_window_days')::integer,
        f.offers_resolved, f.cold_start_boost, f.exposure_offers, (v_params ->> 'rank_exposure_cap')::integer,
        f.exposure_capped, now()
    FROM ssr_private.rank_figures(p_mechanic_id, v_params, now()) AS f;
END
$$;

COMMENT ON FUNCTION get_mechanic_reliability(uuid) IS
'A mechanic''s own reliability figures and rank score (default policy), for their dashboard.';
