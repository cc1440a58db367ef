-- rank_figures: one mechanic's reliability figures and rank score at p_now under the
-- parameters p_params (a routing policy's, ssr_private.routing_policy_params; the maintained
-- mechanic_rankings use ssr_private.default_policy_params(), an experiment may pass another
-- policy's). The formula (docs/RANKING.md):
--   platform_mean  = ranking_platform.rating_sum / review_count (4.0 before any review)
--   shrunk_rating  = (C * platform_mean + rating_sum) / (C + review_count), C = rank_prior_strength
--   t_rating       = (shrunk_rating - 1) / 4                                   in [0, 1]
--   acceptance     = accepted / resolved over the last rank_acceptance_window resolved offers
--                    (accepted, declined, timed out: timeouts count as declines; rescinded
--                    offers are nobody's answer and do not count); NULL under rank_acceptance_min
--   response_p     = the rank_response_percentile of the seconds from offer to answer over
--                    rank_window_days (timeouts count with their whole wait), nearest rank over
--                    the histogram buckets; NULL under rank_acceptance_min responses
--   t_response     = 1 when response_p <= rank_response_target_seconds, else target / response_p
--   no_show_rate   = sessions missed / sessions ended over rank_window_days (missed: accepted,
--                    then cancelled or refunded without ever starting); NULL under rank_no_show_min
--   quality        = weighted mean of t_rating, acceptance, t_response, 1 - no_show_rate with
--                    the rank_weight_* weights, over the terms that are not NULL
--   reliability    = the same mean without t_rating (NULL when no other term counts yet): the
--                    directory's reliability term (mechanic_rankings.reliability)
--   cold_start     = rank_cold_start_boost * (1 - resolved / rank_cold_start_offers) while the
--                    mechanic has fewer resolved offers than that and joined less than
--                    rank_cold_start_days ago; else 0
--   exposure       = offers made to them in the last rank_exposure_window_seconds; capped when
--                    >= rank_exposure_cap, which subtracts rank_exposure_penalty
--   rank_score     = round(quality + cold_start - penalty, 6)
-- Reads the rollups (mechanic_reliability, mechanic_reliability_days, mechanic_response_days,
-- ranking_platform) and at most rank_acceptance_window + rank_exposure_cap offer index
-- entries. Unknown mechanic: no row. No errors.
CREATE OR REPLACE FUNCTION ssr_private.rank_figures(
    p_mechanic_id uuid,
    p_params jsonb,
    p_now timestamptz DEFAULT now()
) RETURNS TABLE (
    mechanic_id uuid,
    review_count bigint,
    rating_mean double precision,
    platform_mean double precision,
    shrunk_rating double precision,
    offers_resolved bigint,
    acceptance_offers integer,
    acceptance_rate double precision,
    response_count bigint,
    response_seconds double precision,
    response_term double precision,
    sessions_ended bigint,
    no_show_rate double precision,
    quality double precision,
    reliability double precision,
    cold_start_boost double precision,
    exposure_offers integer,
    exposure_capped boolean,
    rank_score double precision
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_c double precision := (p_params ->> 'rank_prior_strength')::double precision;
    v_n integer := (p_params ->> 'rank_acceptance_window')::integer;
    v_min integer := (p_params ->> 'rank_acceptance_min')::integer;
    v_pct double precision := (p_params ->> 'rank_response_percentile')::double precision;
    v_target double precision := (p_params ->> 'rank_response_target_seconds')::double precision;
    v_days integer := (p_params ->> 'rank_window_days')::integer;
    v_ns_min integer := (p_params ->> 'rank_no_show_min')::integer;
    v_w_rating double precision := (p_params ->> 'rank_weight_rating')::double precision;
    v_w_acc double precision := (p_params ->> 'rank_weight_acceptance')::double precision;
    v_w_resp double precision := (p_params ->> 'rank_weight_response')::double precision;
    v_w_ns double precision := (p_params ->> 'rank_weight_no_show')::double precision;
    v_cold_offers integer := (p_params ->> 'rank_cold_start_offers')::integer;
    v_cold_days integer := (p_params ->> 'rank_cold_start_days')::integer;
    v_cold_boost double precision := (p_params ->> 'rank_cold_start_boost')::double precision;
    v_exp_window integer := (p_params ->> 'rank_exposure_window_seconds')::integer;
    v_exp_cap integer := (p_params ->> 'rank_exposure_cap')::integer;
    v_exp_penalty double precision := (p_params ->> 'rank_exposure_penalty')::double precision;
    v_created timestamptz;
    v_since date := (p_now AT TIME ZONE 'UTC')::date - (v_days - 1);
    v_missed bigint;
    v_accepted integer;
    v_sum double precision := 0;
    v_weights double precision := 0;
    v_rel_sum double precision := 0;
    v_rel_weights double precision := 0;
BEGIN
    SELECT m.created_at INTO v_created FROM mechanics AS m WHERE m.id = p_mechanic_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    mechanic_id := p_mechanic_id;
    SELECT coalesce(r.review_count, 0), coalesce(r.offers_resolved, 0),
        r.rating_sum::double precision / nullif(r.review_count, 0)
    INTO review_count, offers_resolved, rating_mean
    FROM (SELECT 1) AS one
    LEFT JOIN mechanic_reliability AS r ON r.mechanic_id = p_mechanic_id;
    SELECT coalesce(p.rating_sum::double precision / nullif(p.review_count, 0), 4.0) INTO platform_mean
    FROM (SELECT 1) AS one LEFT JOIN ranking_platform AS p ON p.id;
    shrunk_rating := coalesce(
        (v_c * platform_mean + coalesce(rating_mean * review_count, 0)) / nullif(v_c + review_count, 0),
        platform_mean
    );

    SELECT count(*)::integer, count(*) FILTER (WHERE o.outcome = 'accepted')::integer
    INTO acceptance_offers, v_accepted
    FROM (
        SELECT o.outcome FROM offers AS o
        WHERE o.mechanic_id = p_mechanic_id AND o.outcome IN ('accepted', 'declined', 'timed_out')
        ORDER BY o.outcome_at DESC, o.id DESC
        LIMIT v_n
    ) AS o;
    acceptance_rate := CASE WHEN acceptance_offers >= v_min THEN v_accepted::double precision / acceptance_offers END;

    SELECT coalesce(sum(h.responses), 0) INTO response_count
    FROM mechanic_response_days AS h WHERE h.mechanic_id = p_mechanic_id AND h.day >= v_since;
    IF response_count >= v_min THEN
        SELECT b.bucket INTO response_seconds
        FROM (
            SELECT h.bucket, sum(sum(h.responses)) OVER (ORDER BY h.bucket) AS cum
            FROM mechanic_response_days AS h
            WHERE h.mechanic_id = p_mechanic_id AND h.day >= v_since
            GROUP BY h.bucket
        ) AS b
        WHERE b.cum >= ceil(v_pct * response_count)
        ORDER BY b.bucket
        LIMIT 1;
        response_term := CASE WHEN response_seconds <= v_target THEN 1.0 ELSE v_target / response_seconds END;
    END IF;

    SELECT coalesce(sum(d.sessions_ended), 0), coalesce(sum(d.sessions_missed), 0)
    INTO sessions_ended, v_missed
    FROM mechanic_reliability_days AS d WHERE d.mechanic_id = p_mechanic_id AND d.day >= v_since;
    no_show_rate := CASE WHEN sessions_ended >= v_ns_min THEN v_missed::double precision / sessions_ended END;

    v_sum := v_w_rating * (shrunk_rating - 1) / 4;
    v_weights := v_w_rating;
    IF acceptance_rate IS NOT NULL THEN
        v_sum := v_sum + v_w_acc * acceptance_rate;
        v_weights := v_weights + v_w_acc;
    END IF;
    IF response_term IS NOT NULL THEN
        v_sum := v_sum + v_w_resp * response_term;
        v_weights := v_weights + v_w_resp;
    END IF;
    IF no_show_rate IS NOT NULL THEN
        v_sum := v_sum + v_w_ns * (1 - no_show_rate);
        v_weights := v_weights + v_w_ns;
    END IF;
    v_rel_sum := v_sum - v_w_rating * (shrunk_rating - 1) / 4;
    v_rel_weights := v_weights - v_w_rating;
    quality := CASE WHEN v_weights > 0 THEN v_sum / v_weights ELSE 0 END;
    reliability := CASE WHEN v_rel_weights > 0 THEN v_rel_sum / v_rel_weights END;

    cold_start_boost := CASE
        WHEN offers_resolved < v_cold_offers AND v_created > p_now - make_interval(days => v_cold_days)
            THEN v_cold_boost * (1 - offers_resolved::double precision / v_cold_offers)
        ELSE 0
    END;

    SELECT count(*)::integer INTO exposure_offers
    FROM (
        SELECT 1 FROM offers AS o
        WHERE o.mechanic_id = p_mechanic_id AND o.offered_at > p_now - make_interval(secs => v_exp_window)
            AND o.offered_at <= p_now
        LIMIT v_exp_cap
    ) AS e;
    exposure_capped := exposure_offers >= v_exp_cap;

    rank_score := round(
        (quality + cold_start_boost - CASE WHEN exposure_capped THEN v_exp_penalty ELSE 0 END)::numeric, 6
    )::double precision;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION ssr_private.rank_figures(uuid, jsonb, timestamptz) IS
'A mechanic''s reliability figures and rank score under a policy''s parameters (the formula of docs/RANKING.md).';
