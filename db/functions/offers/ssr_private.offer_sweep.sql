-- offer_sweep: the dispatcher's housekeeping, every 1-2 s (the worker's job offers); safe to
-- run concurrently (every row it changes is taken FOR UPDATE SKIP LOCKED). As of p_now:
--   1. timeouts: live offers past expires_at become timed_out, in ONE set-based statement
--      on the partial index offers_live_expires_at_idx (at most p_limit a pass); an offer an
--      accept or decline holds is skipped, and that transaction decides it (the accept
--      checks expires_at itself, so a late accept is refused: one outcome either way);
--   2. waves: pending requests distributed in waves whose next wave is due
--      (dispatch_next_at <= p_now) or whose live offers just all timed out get their next
--      wave (offer_wave; a wave that reaches nobody new waits for the next one); after
--      distribution_waves waves the request opens to everyone the offer rule allows
--      (targeted_until = p_now) and an 'offered' event is published;
--   3. auto-away (presence_away_after_timeouts of the default policy, null: never): a
--      mechanic who just timed out and whose last N answered offers since going online all
--      timed out goes offline (is_available false, away_reason offers_timed_out);
--   4. grace (presence_grace_seconds, null: never): an available mechanic whose dashboard
--      sends heartbeats (last_seen_at set) and sent none for that long goes offline
--      (away_reason no_heartbeat). Mechanics who go away lose their live offers
--      (offer_release_mechanic). set_mechanic_presence(mechanic, true) brings them back.
-- Returns the counts.
CREATE OR REPLACE FUNCTION ssr_private.offer_sweep(p_now timestamptz DEFAULT now(), p_limit integer DEFAULT 10000)
RETURNS TABLE (timed_out integer, waves integer, opened integer, away integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_timed_out integer := 0;
    v_waves integer := 0;
    v_opened integer := 0;
    v_away integer := 0;
    v_mechanics uuid[];
    v_requests uuid[];
    v_req session_requests;
    v_params jsonb;
    v_presence jsonb := ssr_private.default_policy_params();
    v_after integer := (v_presence ->> 'presence_away_after_timeouts')::integer;
    v_grace integer := (v_presence ->> 'presence_grace_seconds')::integer;
    v_gone uuid[];
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'now is required', COLUMN = 'now';
    END IF;
    IF p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'limit must be at least 1', COLUMN = 'limit';
    END IF;

    -- 1. timeouts
    WITH due AS (
        SELECT o.id
        FROM offers AS o
        WHERE o.outcome IS NULL AND o.expires_at <= p_now
        ORDER BY o.expires_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ),

    ended AS (
        UPDATE offers AS o
        SET outcome = 'timed_out', outcome_at = greatest(p_now, o.offered_at)
        FROM due
        WHERE o.id = due.id
        RETURNING o.mechanic_id, o.session_request_id
    )

    SELECT count(*)::integer, array_agg(DISTINCT e.mechanic_id), array_agg(DISTINCT e.session_request_id)
    INTO v_timed_out, v_mechanics, v_requests
    FROM ended AS e;

    -- 2. waves
    FOR v_req IN
        SELECT r.*
        FROM session_requests AS r
        WHERE
            r.status = 'pending'
            AND r.dispatch_next_at IS NOT NULL
            AND (
                r.dispatch_next_at <= p_now
                OR (
                    r.id = ANY(v_requests)
                    AND NOT EXISTS (
                        SELECT 1 FROM offers AS o WHERE o.session_request_id = r.id AND o.outcome IS NULL
                    )
                )
            )
        ORDER BY r.dispatch_next_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    LOOP
        v_params := ssr_private.routing_policy_params(v_req.routing_policy_id);
        IF v_req.dispatch_wave + 1 < (v_params ->> 'distribution_waves')::integer AND v_req.targeted_until > p_now THEN
            UPDATE session_requests AS r
            SET
                dispatch_wave = r.dispatch_wave + 1,
                dispatch_next_at = p_now + make_interval(secs => (v_params ->> 'distribution_wave_seconds')::integer)
            WHERE r.id = v_req.id
            RETURNING r.* INTO v_req;
            IF ssr_private.offer_wave(v_req, p_now) > 0 THEN
                v_waves := v_waves + 1;
                PERFORM ssr_private.routing_publish(v_req, 'offered');
            END IF;
            CONTINUE;  -- a wave that reaches nobody new (all offered, or capped) waits for the next
        END IF;
        -- the schedule is over (or reaches nobody more): open to everyone the offer rule allows
        UPDATE session_requests AS r
        SET dispatch_next_at = NULL, targeted_until = least(r.targeted_until, p_now)
        WHERE r.id = v_req.id
        RETURNING r.* INTO v_req;
        v_opened := v_opened + 1;
        PERFORM ssr_private.routing_publish(v_req, 'offered');
    END LOOP;

    -- 3. auto-away after N timeouts in a row
    IF v_after IS NOT NULL AND v_mechanics IS NOT NULL THEN
        WITH tired AS (
            SELECT m.id
            FROM mechanics AS m
            WHERE
                m.id = ANY(v_mechanics)
                AND m.is_available
                AND (
                    SELECT count(*) FILTER (WHERE x.outcome = 'timed_out') = v_after AND count(*) = v_after
                    FROM (
                        SELECT o.outcome
                        FROM offers AS o
                        WHERE
                            o.mechanic_id = m.id
                            AND o.outcome IS NOT NULL
                            AND o.outcome_at > coalesce(m.online_at, '-infinity')
                        ORDER BY o.outcome_at DESC
                        LIMIT v_after
                    ) AS x
                )
            FOR NO KEY UPDATE OF m SKIP LOCKED
        ),

        gone AS (
            UPDATE mechanics AS m
            SET is_available = FALSE, away_reason = 'offers_timed_out', away_at = p_now
            FROM tired
            WHERE m.id = tired.id
            RETURNING m.id
        )

        SELECT array_agg(gone.id) INTO v_gone FROM gone;
        IF v_gone IS NOT NULL THEN
            v_away := v_away + cardinality(v_gone);
            PERFORM ssr_private.offer_release_mechanic(v_gone, 'mechanic_away', p_now);
        END IF;
    END IF;

    -- 4. no heartbeat within the grace period
    IF v_grace IS NOT NULL THEN
        WITH silent AS (
            SELECT m.id
            FROM mechanics AS m
            WHERE
                m.is_available
                AND m.last_seen_at IS NOT NULL
                AND m.last_seen_at < p_now - make_interval(secs => v_grace)
            ORDER BY m.last_seen_at
            LIMIT p_limit
            FOR NO KEY UPDATE SKIP LOCKED
        ),

        gone AS (
            UPDATE mechanics AS m
            SET is_available = FALSE, away_reason = 'no_heartbeat', away_at = p_now
            FROM silent
            WHERE m.id = silent.id
            RETURNING m.id
        )

        SELECT array_agg(gone.id) INTO v_gone FROM gone;
        IF v_gone IS NOT NULL THEN
            v_away := v_away + cardinality(v_gone);
            PERFORM ssr_private.offer_release_mechanic(v_gone, 'mechanic_away', p_now);
        END IF;
    END IF;

    RETURN QUERY SELECT v_timed_out, v_waves, v_opened, v_away;
END
$$;

COMMENT ON FUNCTION ssr_private.offer_sweep(timestamptz, integer) IS
'Times out live offers past their expiry, opens the next waves, takes away mechanics who time out or stop sending '
'heartbeats; concurrent-safe; returns the counts.';
