-- routing_publish: writes the outbox rows announcing one step of a request; once the
-- transaction commits, ssr_private.routing_outbox_relay() (the worker, every 100 ms) sends each with
-- pg_notify.
-- Channels:
--   session_requests_ws_<hex>: every event of workshop_only and hybrid requests of that
--                              (preferred) workshop;
--   session_requests:          every event of requests open to everyone: broadcast ones,
--                              hybrid ones without a window or once escalated.
-- The audiences are those of the offer rule's score (ssr_private.routing_offer_score): the
-- workshop channel when the preferred workshop's mechanics score 100 (workshop_only and
-- hybrid), the global one when an independent would score at all (broadcast, hybrid out of
-- its window). The channels follow the escalation, not the clock: a hybrid window counts as
-- on until the request is escalated (by the sweep or the workshop's last decline), so the
-- score is asked with exclusive_until NULL once escalated and a clock of -infinity.
-- Payload (JSON object): event, request_id, routing_type, preferred_workshop_id,
--   audience ('workshop' or 'everyone'), priority_score (score of the channel's audience:
--   100 on a workshop channel, 50 on the global one; independents get 25 for hybrid),
--   plan_code, status, created_at, exclusive_until, expires_at; outbox_id is added when sent.
--   mechanic_id and workshop_id (who accepted) only on the preferred workshop's channel and
--   only when the accepting mechanic is of that workshop: every mechanic hears the global
--   channel (and any login may LISTEN), so it says "request X is taken", never by whom
--   (ssr_private.routing_outbox_payload strips the rows written before this rule too).
CREATE OR REPLACE FUNCTION ssr_private.routing_publish(p_request session_requests, p_event text)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_base jsonb;
    v_count integer := 0;
    v_window timestamptz := CASE WHEN p_request.escalated_at IS NULL THEN p_request.exclusive_until END;
BEGIN
    v_base := jsonb_build_object(
        'event', p_event,
        'request_id', p_request.id,
        'routing_type', p_request.routing_type,
        'preferred_workshop_id', p_request.preferred_workshop_id,
        'plan_code', p_request.plan_code,
        'status', p_request.status,
        'created_at', p_request.created_at,
        'exclusive_until', p_request.exclusive_until,
        'expires_at', p_request.expires_at
    );
    IF
        ssr_private.routing_offer_score(
            p_request.routing_type, p_request.preferred_workshop_id, v_window, p_request.preferred_workshop_id,
            '-infinity'
        ) = 100
        THEN
        INSERT INTO routing_outbox (channel, request_id, event_type, payload)
        VALUES (
            routing_workshop_channel(p_request.preferred_workshop_id),
            p_request.id,
            p_event,
            v_base
            || jsonb_build_object('audience', 'workshop', 'priority_score', 100)
            || CASE
                WHEN p_request.workshop_id = p_request.preferred_workshop_id
                    THEN
                        jsonb_build_object('mechanic_id', p_request.mechanic_id, 'workshop_id', p_request.workshop_id)
                ELSE '{}'::jsonb
            END
        );
        v_count := v_count + 1;
    END IF;
    IF
        ssr_private.routing_offer_score(
            p_request.routing_type, p_request.preferred_workshop_id, v_window, NULL, '-infinity'
        ) IS NOT NULL
        THEN
        INSERT INTO routing_outbox (channel, request_id, event_type, payload)
        VALUES (
            'session_requests',
            p_request.id,
            p_event,
            v_base || jsonb_build_object('audience', 'everyone', 'priority_score', 50)
        );
        v_count := v_count + 1;
    END IF;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_publish(session_requests, text) IS
'Writes the outbox rows (sent with pg_notify by ssr_private.routing_outbox_relay after commit) announcing an event of a request; '
'returns how many channels.';
