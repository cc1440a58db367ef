-- offer_tier: why a mechanic of workshop p_mechanic_workshop_id (NULL: independent) is
-- offered the request: open for a broadcast request (no preference), preferred (the
-- preferred workshop's), workshop (another workshop's), independent. IMMUTABLE, inlined.
CREATE OR REPLACE FUNCTION ssr_private.offer_tier(p_request public.session_requests, p_mechanic_workshop_id uuid)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
SELECT CASE
    WHEN (p_request).routing_type = 'broadcast' THEN 'open'
    WHEN p_mechanic_workshop_id = (p_request).preferred_workshop_id THEN 'preferred'
    WHEN p_mechanic_workshop_id IS NOT NULL THEN 'workshop'
    ELSE 'independent'
END
$$;

COMMENT ON FUNCTION ssr_private.offer_tier(public.session_requests, uuid) IS
'The offer tier of a mechanic of the given workshop for a request: open, preferred, workshop or independent.';
