-- offer_targeted_allows: the distribution's part of "is this request offered to this
-- mechanic now", beside THE offer rule (ssr_private.routing_offered, which it never
-- repeats). TRUE when the request is not in a targeted stage (targeted_until NULL:
-- broadcast, every request made before distribution modes; or past: the open stage after
-- the waves), or the mechanic holds a live offer of it (not answered, not past its
-- expires_at). Called by get_mechanic_offers, accept_session_request and
-- decline_session_request next to routing_offered. A plain SQL expression: inlined by the
-- planner (the EXISTS is one probe of the unique (request, mechanic) index). No errors.
CREATE OR REPLACE FUNCTION ssr_private.offer_targeted_allows(
    p_request public.session_requests,
    p_mechanic_id uuid,
    p_now timestamptz
) RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
SELECT
    (p_request).targeted_until IS NULL
    OR (p_request).targeted_until <= p_now
    OR EXISTS (
        SELECT 1
        FROM public.offers AS o
        WHERE
            o.session_request_id = (p_request).id
            AND o.mechanic_id = p_mechanic_id
            AND o.outcome IS NULL
            AND o.expires_at > p_now
    )
$$;

COMMENT ON FUNCTION ssr_private.offer_targeted_allows(public.session_requests, uuid, timestamptz) IS
'TRUE unless the request is in a targeted stage (waves) and the mechanic holds no live offer of it.';
