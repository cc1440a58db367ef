-- offer_held_live: TRUE when the mechanic holds a live offer of the request (not answered, not
-- past its expires_at). For the mechanic row policy on session_requests, whose role may not read
-- offers: SECURITY DEFINER, one probe of the unique (request, mechanic) index. The owner's own
-- callers use ssr_private.offer_targeted_allows, which the planner inlines. No errors.
CREATE OR REPLACE FUNCTION ssr_private.offer_held_live(
    p_request_id uuid,
    p_mechanic_id uuid,
    p_now timestamptz
) RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
SELECT EXISTS (
    SELECT 1
    FROM offers AS o
    WHERE
        o.session_request_id = p_request_id
        AND o.mechanic_id = p_mechanic_id
        AND o.outcome IS NULL
        AND o.expires_at > p_now
)
$$;

COMMENT ON FUNCTION ssr_private.offer_held_live(uuid, uuid, timestamptz) IS
'TRUE when the mechanic holds a live offer of the request (for the mechanic row policy, which may not read offers).';
