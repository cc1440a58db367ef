-- get_mechanics_for_routing: the eligible, available mechanics for a routing choice,
-- best first, with their priority_score (see routing_offer_score):
--   workshop_only: only that workshop's mechanics (100);
--   hybrid: that workshop's 100, other workshops' 50, independents 25;
--   broadcast: everyone 50 (p_workshop_id, if given, only marks is_preferred).
-- Eligible (routing_offerable_mechanics): mechanic active and available, independent or
-- of an active workshop, and below capacity.
-- Order: priority_score, then rating (best first), then id. Lean on purpose (broadcast
-- returns every available mechanic): join mechanics for names.
-- Bad choices raise like validate_routing_choice (SR400 / SR404).
-- PL/pgSQL only to validate first and to give workshop_only its own index-friendly query
-- (the workshop filter reaches the partial index of available mechanics); both queries
-- are plain set-based SQL over the eligibility view.
-- (DROP first: an earlier version returned more columns, which OR REPLACE cannot change.)
DROP FUNCTION IF EXISTS get_mechanics_for_routing(uuid, text);

CREATE OR REPLACE FUNCTION get_mechanics_for_routing(
    p_workshop_id uuid,
    p_routing_type text
) RETURNS TABLE (
    mechanic_id uuid,
    priority_score integer,
    workshop_id uuid,
    is_preferred boolean
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_type text := ssr_private.validate_routing_choice(p_workshop_id, p_routing_type);
BEGIN
    IF v_type = 'workshop_only' THEN
        RETURN QUERY
        SELECT
            a.mechanic_id,
            100,
            a.workshop_id,
            TRUE
        FROM ssr_private.routing_offerable_mechanics AS a
        WHERE a.workshop_id = p_workshop_id
        ORDER BY a.rating::float8 DESC NULLS LAST, a.mechanic_id;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT
        a.mechanic_id,
        ssr_private.routing_offer_score(v_type, p_workshop_id, NULL, a.workshop_id, now()) AS score,
        a.workshop_id,
        coalesce(a.workshop_id = p_workshop_id, FALSE)
    FROM ssr_private.routing_offerable_mechanics AS a
    ORDER BY score DESC, a.rating::float8 DESC NULLS LAST, a.mechanic_id;
END
$$;

COMMENT ON FUNCTION get_mechanics_for_routing(uuid, text) IS
'Eligible available mechanics for a routing choice with priority_score (100 preferred workshop, 50 other workshops or '
'broadcast, 25 independents in hybrid), workshop_id and is_preferred, best first.';
