-- offer_record: records a mechanic's answer (accepted or declined) on their offer of a
-- request, in the caller's transaction (accept_session_request, decline_session_request,
-- after their own checks and writes succeeded). The live offer, when there is one (only a
-- request distributed in waves has any), gets the outcome (conditional: only while its
-- outcome is NULL). Otherwise (the open stage of every
-- mode: broadcast writes no offer rows beforehand) the row is written now with its outcome:
-- tier (offer_tier), score (routing_offer_score), stage window inside a hybrid window else
-- open, offered_at when the request became visible to that mechanic (its creation, or the
-- end of the window for an outsider of a hybrid request), expires_at the request's. A row
-- of an earlier ended offer (it timed out, then the request opened to everyone and the
-- mechanic answered) takes the new outcome: one row per request and mechanic, its last
-- outcome. A decline's reason is kept (its first 200 characters). No errors of its own (the
-- unique index allows one accepted offer per request; the callers hold the request's row).
CREATE OR REPLACE FUNCTION ssr_private.offer_record(
    p_request session_requests,
    p_mechanic_id uuid,
    p_workshop_id uuid,
    p_outcome text,
    p_reason text,
    p_now timestamptz
) RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_reason text := CASE WHEN p_outcome = 'declined' THEN left(nullif(btrim(p_reason), ''), 200) END;
BEGIN
    IF p_request.dispatch_mode IS NOT NULL THEN  -- only targeted requests have live offers
        UPDATE offers AS o
        SET outcome = p_outcome, outcome_at = greatest(p_now, o.offered_at), reason = v_reason
        WHERE o.session_request_id = p_request.id AND o.mechanic_id = p_mechanic_id AND o.outcome IS NULL;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    INSERT INTO offers AS o (
        session_request_id, mechanic_id, workshop_id, tier, score, wave, stage,
        offered_at, expires_at, outcome, outcome_at, reason
    )
    SELECT
        p_request.id, p_mechanic_id, p_workshop_id,
        ssr_private.offer_tier(p_request, p_workshop_id),
        coalesce(ssr_private.routing_offer_score(
            p_request.routing_type, p_request.preferred_workshop_id, p_request.exclusive_until, p_workshop_id, p_now
        ), 0),
        coalesce(p_request.dispatch_wave, 0),
        CASE WHEN ssr_private.offer_in_window(p_request, p_now) THEN 'window' ELSE 'open' END,
        v.offered_at,
        greatest(coalesce(p_request.expires_at, 'infinity'), v.offered_at + interval '1 millisecond'),
        p_outcome,
        greatest(p_now, v.offered_at),
        v_reason
    FROM (
        SELECT least(
            p_now,
            CASE
                WHEN
                    p_request.routing_type = 'hybrid' AND p_request.exclusive_until IS NOT NULL
                    AND p_workshop_id IS DISTINCT FROM p_request.preferred_workshop_id
                    THEN greatest(p_request.exclusive_until, p_request.created_at)
                ELSE p_request.created_at
            END
        ) AS offered_at
    ) AS v
    ON CONFLICT (session_request_id, mechanic_id) DO UPDATE
    SET outcome = excluded.outcome, outcome_at = greatest(excluded.outcome_at, o.offered_at), reason = excluded.reason;
END
$$;

COMMENT ON FUNCTION ssr_private.offer_record(session_requests, uuid, uuid, text, text, timestamptz) IS
'Records a mechanic''s accept or decline on their offer of a request (the live offer, or a row written now in the open stage).';

REVOKE ALL ON FUNCTION ssr_private.offer_record(session_requests, uuid, uuid, text, text, timestamptz) FROM PUBLIC;
