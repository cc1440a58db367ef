-- offer_raise_not_offered: raises, for accept_session_request and decline_session_request,
-- when the offer rule would let the mechanic act (pending, offerable, routing_offered) but
-- the request is in a targeted stage and the mechanic holds no live offer of it:
--   SR409 (request_id) "not offered to this mechanic now" with what became of their offer
--   (timed out, rescinded, none yet: offered in waves). Otherwise returns (the caller then
--   raises routing_raise_refusal's reason, in its order).
CREATE OR REPLACE FUNCTION ssr_private.offer_raise_not_offered(p_request_id uuid, p_mechanic_id uuid, p_now timestamptz)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = public, pg_temp
AS $$
DECLARE
    v_req session_requests;
    v_workshop uuid;
    v_offer offers;
BEGIN
    SELECT * INTO v_req FROM session_requests AS r WHERE r.id = p_request_id;
    IF NOT FOUND OR ssr_private.offer_targeted_allows(v_req, p_mechanic_id, p_now) THEN
        RETURN;
    END IF;
    SELECT a.workshop_id INTO v_workshop
    FROM ssr_private.routing_offerable_mechanics AS a WHERE a.mechanic_id = p_mechanic_id;
    IF NOT FOUND OR NOT ssr_private.routing_offered(v_req, p_mechanic_id, v_workshop, p_now) THEN
        RETURN;
    END IF;
    SELECT * INTO v_offer FROM offers AS o WHERE o.session_request_id = p_request_id AND o.mechanic_id = p_mechanic_id;
    RAISE EXCEPTION USING
        ERRCODE = 'SR409',
        MESSAGE = format(
            'session request %s is not offered to mechanic %s now: %s', p_request_id, p_mechanic_id,
            CASE
                WHEN v_offer.id IS NULL THEN format('it is offered in waves until %s', v_req.targeted_until)
                WHEN v_offer.outcome IS NULL THEN format('their offer expired at %s', v_offer.expires_at)
                ELSE format('their offer was %s', replace(v_offer.outcome, '_', ' '))
            END
        ),
        COLUMN = 'request_id';
END
$$;

COMMENT ON FUNCTION ssr_private.offer_raise_not_offered(uuid, uuid, timestamptz) IS
'SR409 when a request in a targeted stage is not offered to the mechanic (no live offer); otherwise nothing.';

REVOKE ALL ON FUNCTION ssr_private.offer_raise_not_offered(uuid, uuid, timestamptz) FROM PUBLIC;
