-- offer_wave: makes the targeted offers of a request's current wave (dispatch_wave): tops
-- its live offers up to the wave's width, with the best candidates not offered it yet.
--   width: round_robin 1; staggered distribution_k + wave * distribution_widen_step.
--   candidates: THE offer rule only (ssr_private.routing_offerable_mechanics and
--     ssr_private.routing_offered: eligibility, capacity, declines, the hybrid window), never
--     a copy of it; minus mechanics who were already offered this request (any outcome) and,
--     with offer_max_live_per_mechanic, mechanics holding that many live offers.
--   order: the offer score (routing_offer_score: the tier), then within a tier
--     staggered: the rank score best first: mechanic_rankings.rank_score (no row: 0), kept
--       under the default policy's rank_* parameters; a request whose policy sets other rank_*
--       values (an experiment on the ranking's weights) ranks its candidates by
--       ssr_private.rank_figures under its own, computed per candidate; then the longest idle
--     (the oldest last offer, ties by its id; never offered: first), then the id;
--     round_robin: the longest idle, then the id (a rotation: the rank does not reorder it).
--   each offer: tier (offer_tier), stage window inside a hybrid window else wave, expires
--     after offer_timeout_seconds (never after the request's own expiry).
-- Parameters from the request's policy (ssr_private.routing_policy_params of routing_policy_id). A request that is
-- not pending or not distributed in waves gets nothing. Returns how many offers it made.
-- Cost: one pass over the offerable mechanics the rule allows for the request, with one
-- index probe each for the last offer (offers_mechanic_offered_at_idx); only for requests
-- of the staggered and round_robin modes.
CREATE OR REPLACE FUNCTION ssr_private.offer_wave(p_request session_requests, p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_params jsonb;
    v_width integer;
    v_live integer;
    v_cap integer;
    v_made integer;
    v_round_robin boolean := p_request.dispatch_mode = 'round_robin';
    v_window boolean := ssr_private.offer_in_window(p_request, p_now);
    v_own_rank boolean := FALSE;
    v_default jsonb;
BEGIN
    IF p_request.dispatch_mode IS NULL OR p_request.status <> 'pending' THEN
        RETURN 0;
    END IF;
    v_params := ssr_private.routing_policy_params(p_request.routing_policy_id);
    v_cap := (v_params ->> 'offer_max_live_per_mechanic')::integer;
    -- The maintained scores are the default policy's; a policy of other rank_* values ranks itself.
    IF NOT v_round_robin THEN
        v_default := ssr_private.default_policy_params();
        v_own_rank := EXISTS (
            SELECT 1 FROM jsonb_each(v_params) AS mine
            WHERE mine.key LIKE 'rank\_%' AND mine.value IS DISTINCT FROM v_default -> mine.key
        );
    END IF;
    v_width := CASE
        WHEN v_round_robin THEN 1
        ELSE (v_params ->> 'distribution_k')::integer
            + p_request.dispatch_wave * (v_params ->> 'distribution_widen_step')::integer
    END;
    SELECT count(*) INTO v_live
    FROM offers AS o WHERE o.session_request_id = p_request.id AND o.outcome IS NULL;
    IF v_live >= v_width THEN
        RETURN 0;
    END IF;

    INSERT INTO offers (
        session_request_id, mechanic_id, workshop_id, tier, score, wave, stage, offered_at, expires_at
    )
    SELECT
        p_request.id,
        c.mechanic_id,
        c.workshop_id,
        ssr_private.offer_tier(p_request, c.workshop_id),
        c.score,
        p_request.dispatch_wave,
        CASE WHEN v_window THEN 'window' ELSE 'wave' END,
        p_now,
        least(
            p_now + make_interval(secs => (v_params ->> 'offer_timeout_seconds')::integer),
            coalesce(p_request.expires_at, 'infinity')
        )
    FROM (
        SELECT a.mechanic_id, a.workshop_id, s.score
        FROM ssr_private.routing_offerable_mechanics AS a
        CROSS JOIN LATERAL (
            SELECT ssr_private.routing_offer_score(
                p_request.routing_type, p_request.preferred_workshop_id, p_request.exclusive_until,
                a.workshop_id, p_now
            ) AS score
        ) AS s
        LEFT JOIN mechanic_rankings AS mr ON a.mechanic_id = mr.mechanic_id
        LEFT JOIN LATERAL (
            -- the last offer: the index gives offered_at, ties (one transaction's clock) by id
            SELECT lo.offered_at AS last_offered_at, lo.id AS last_offer_id
            FROM offers AS lo
            WHERE lo.mechanic_id = a.mechanic_id
            ORDER BY lo.offered_at DESC, lo.id DESC
            LIMIT 1
        ) AS idle ON TRUE
        WHERE
            ssr_private.routing_offered(p_request, a.mechanic_id, a.workshop_id, p_now)
            AND NOT EXISTS (
                SELECT 1 FROM offers AS o
                WHERE o.session_request_id = p_request.id AND o.mechanic_id = a.mechanic_id
            )
            AND (
                v_cap IS NULL
                OR (SELECT count(*) FROM offers AS lv WHERE lv.mechanic_id = a.mechanic_id AND lv.outcome IS NULL)
                < v_cap
            )
        ORDER BY
            s.score DESC,
            CASE
                WHEN v_round_robin THEN 0
                WHEN v_own_rank THEN (SELECT f.rank_score FROM ssr_private.rank_figures(a.mechanic_id, v_params, p_now) AS f)
                ELSE coalesce(mr.rank_score, 0)
            END DESC,
            idle.last_offered_at ASC NULLS FIRST,
            idle.last_offer_id ASC NULLS FIRST,
            a.mechanic_id ASC
        LIMIT v_width - v_live
    ) AS c
    ON CONFLICT (session_request_id, mechanic_id) DO NOTHING;
    GET DIAGNOSTICS v_made = ROW_COUNT;
    RETURN v_made;
END
$$;

COMMENT ON FUNCTION ssr_private.offer_wave(session_requests, timestamptz) IS
'Makes the targeted offers of a request''s current wave (top candidates of the offer rule by tier, rank, idle time); '
'returns how many.';

REVOKE ALL ON FUNCTION ssr_private.offer_wave(session_requests, timestamptz) FROM PUBLIC;
