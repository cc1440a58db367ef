-- get_mechanics_for_routing_page: one page of get_mechanics_for_routing, what a dispatcher
-- calls instead of the whole list: the first p_limit candidates of a routing choice in the
-- same order (priority_score, then rating best first with no rating last, then id) with the
-- same rows, scores, workshop_id and is_preferred, plus the rating; the next page starts
-- after the last row, given as (p_after_score, p_after_rating, p_after_id) (its
-- priority_score, rating and mechanic_id; p_after_rating NULL when that mechanic has no
-- rating). Keyset pages: concatenated they are the full list (as of each page's call), and
-- each costs about p_limit index entries per score tier whatever the number of available
-- mechanics (index mechanics_routing_order_idx, migration 0120).
-- Tiers (scores from ssr_private.routing_offer_score, the one rule): workshop_only: the
-- workshop's mechanics (100); hybrid: the workshop's (100), other workshops' (50),
-- independents (25); broadcast: everyone (50), read as workshops' and independents' by the
-- index and merged. Eligible: ssr_private.routing_offerable_mechanics, as the full function.
-- Errors (SR400, nothing written: the function only reads): the routing choice as
-- validate_routing_choice (SR400 / SR404); p_limit NULL, < 1 or > 1000 (COLUMN limit);
-- p_after_score and p_after_id not both given or both NULL, or p_after_rating given without
-- them (COLUMN after).
CREATE OR REPLACE FUNCTION get_mechanics_for_routing_page(
    p_workshop_id uuid,
    p_routing_type text,
    p_limit integer DEFAULT 50,
    p_after_score integer DEFAULT NULL,
    p_after_rating numeric DEFAULT NULL,
    p_after_id uuid DEFAULT NULL
) RETURNS TABLE (
    mechanic_id uuid,
    priority_score integer,
    workshop_id uuid,
    is_preferred boolean,
    rating numeric
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_type text := ssr_private.validate_routing_choice(p_workshop_id, p_routing_type);
    -- The cursor's position in the index key (-coalesce(rating, -1), id); before every row
    -- (-6 < every key: ratings are 0..5) when there is no cursor.
    v_key numeric := CASE WHEN p_after_id IS NULL THEN -6 ELSE -coalesce(p_after_rating, -1) END;
    v_id uuid := coalesce(p_after_id, '00000000-0000-0000-0000-000000000000');
    v_score integer := coalesce(p_after_score, 2147483647);
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'limit must be between 1 and 1000', COLUMN = 'limit';
    END IF;
    IF (p_after_score IS NULL) <> (p_after_id IS NULL) OR (p_after_id IS NULL AND p_after_rating IS NOT NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400',
            MESSAGE = 'after: give after_score, after_rating (NULL for no rating) and after_id of the last row, '
            || 'or none of them',
            COLUMN = 'after';
    END IF;
    RETURN QUERY
    WITH tiers AS (
        -- The preferred workshop's mechanics (workshop_only, hybrid): a few rows, by workshop.
        (
            SELECT a.mechanic_id, a.workshop_id, a.rating, 100 AS tier
            FROM ssr_private.routing_offerable_mechanics AS a
            WHERE
                v_type IN ('workshop_only', 'hybrid') AND v_score >= 100
                AND a.workshop_id = p_workshop_id
                AND (-coalesce(a.rating, -1), a.mechanic_id)
                > (CASE WHEN v_score = 100 THEN v_key ELSE -6 END, v_id)
            ORDER BY -coalesce(a.rating, -1), a.mechanic_id
            LIMIT p_limit
        )
        UNION ALL
        -- Workshops' mechanics: every one for broadcast (50), the other workshops' for hybrid (50).
        (
            SELECT a.mechanic_id, a.workshop_id, a.rating, 50
            FROM ssr_private.routing_offerable_mechanics AS a
            WHERE
                v_type IN ('broadcast', 'hybrid') AND v_score >= 50
                AND (a.workshop_id IS NULL)::integer = 0
                AND (v_type = 'broadcast' OR a.workshop_id <> p_workshop_id)
                AND (-coalesce(a.rating, -1), a.mechanic_id)
                > (CASE WHEN v_score = 50 THEN v_key ELSE -6 END, v_id)
            ORDER BY (a.workshop_id IS NULL)::integer, -coalesce(a.rating, -1), a.mechanic_id
            LIMIT p_limit
        )
        UNION ALL
        -- Independents: 50 for broadcast, 25 for hybrid.
        (
            SELECT a.mechanic_id, a.workshop_id, a.rating, CASE WHEN v_type = 'broadcast' THEN 50 ELSE 25 END
            FROM ssr_private.routing_offerable_mechanics AS a
            WHERE
                v_type IN ('broadcast', 'hybrid')
                AND v_score >= CASE WHEN v_type = 'broadcast' THEN 50 ELSE 25 END
                AND (a.workshop_id IS NULL)::integer = 1
                AND (-coalesce(a.rating, -1), a.mechanic_id)
                > (CASE WHEN v_score = CASE WHEN v_type = 'broadcast' THEN 50 ELSE 25 END THEN v_key ELSE -6 END, v_id)
            ORDER BY (a.workshop_id IS NULL)::integer, -coalesce(a.rating, -1), a.mechanic_id
            LIMIT p_limit
        )
    ),

    scored AS (
        SELECT
            t.mechanic_id,
            ssr_private.routing_offer_score(v_type, p_workshop_id, NULL, t.workshop_id, now()) AS score,
            t.workshop_id,
            t.rating
        FROM tiers AS t
    )

    SELECT
        s.mechanic_id,
        s.score,
        s.workshop_id,
        coalesce(s.workshop_id = p_workshop_id, FALSE),
        s.rating
    FROM scored AS s
    ORDER BY s.score DESC, -coalesce(s.rating, -1), s.mechanic_id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_mechanics_for_routing_page(uuid, text, integer, integer, numeric, uuid) IS
'One keyset page of get_mechanics_for_routing (same rows and order, plus rating): the first p_limit candidates after '
'(p_after_score, p_after_rating, p_after_id); flat in the number of available mechanics.';
