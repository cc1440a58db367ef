-- offer_in_window: is the request inside its hybrid exclusive window at p_now (hybrid,
-- not escalated, exclusive_until in the future)? The stage of an offer made then is
-- 'window'. IMMUTABLE, inlined.
CREATE OR REPLACE FUNCTION ssr_private.offer_in_window(p_request public.session_requests, p_now timestamptz)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
SELECT
    (p_request).routing_type = 'hybrid'
    AND (p_request).escalated_at IS NULL
    AND coalesce((p_request).exclusive_until > p_now, FALSE)
$$;

COMMENT ON FUNCTION ssr_private.offer_in_window(public.session_requests, timestamptz) IS
'TRUE while a hybrid request is inside its exclusive window (offers made then are of stage window).';
