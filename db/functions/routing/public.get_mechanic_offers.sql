-- get_mechanic_offers: the pending requests offered to one mechanic right now, priority
-- customers' first (session_requests.priority, higher first), then highest priority_score,
-- then oldest first. The rule of accept_session_request and the
-- mechanic row-level-security policy too: nothing for a mechanic who is not active, not
-- available, of a workshop that is not active or at capacity (routing_offerable_mechanics);
-- of the requests, those ssr_private.routing_offered offers them (pending, not expired, not
-- declined by them; workshop_only requests only to their workshop; hybrid requests only to
-- the preferred workshop during the window), scored by routing_offer_score.
-- Offers: a request in a targeted stage (staggered or round_robin waves, until
-- session_requests.targeted_until) is listed only to the mechanics holding a live offer of
-- it (a fourth candidate set, read from offers by the partial index offers_live_mechanic_idx,
-- ssr_private.routing_offered still the rule), with expires_at the offer's own expiry when it
-- is sooner than the request's; broadcast requests and the open stage are listed as before.
-- Errors, in this order: SR400 mechanic_id missing; SR400 bad limit (1..500); SR403
-- (COLUMN mechanic_id) the transaction does not verifiably act for that mechanic
-- (ssr_private.assert_acting_for; no identity is refused too); SR404 unknown mechanic.
CREATE OR REPLACE FUNCTION get_mechanic_offers(p_mechanic_id uuid, p_limit integer DEFAULT 50)
RETURNS TABLE (
    request_id uuid,
    session_id uuid,
    priority_score integer,
    routing_type text,
    preferred_workshop_id uuid,
    is_preferred_workshop boolean,
    plan_code text,
    created_at timestamptz,
    exclusive_until timestamptz,
    expires_at timestamptz,
    vehicle_make text,
    vehicle_model text,
    vehicle_year integer,
    description text
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_workshop uuid;
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be between 1 and 500 (got %s)', p_limit),
            COLUMN = 'limit';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    PERFORM 1 FROM mechanics AS m WHERE m.id = p_mechanic_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    SELECT a.workshop_id INTO v_workshop
    FROM ssr_private.routing_offerable_mechanics AS a WHERE a.mechanic_id = p_mechanic_id;
    IF NOT FOUND THEN
        RETURN;  -- not active, not available, of an inactive workshop or at capacity: offered nothing
    END IF;
    -- Three index-ordered candidate sets of normal requests, each at most p_limit long and
    -- each of one score for this mechanic, one of the requests in a targeted stage this
    -- mechanic holds a live offer of, and one of priority customers' requests (partial index
    -- session_requests_pending_priority_idx), so their merge is the true top p_limit however
    -- many requests are pending (make bench: scanning every pending request cost 20 ms at 43k pending).
    -- ssr_private.routing_offered stays the rule, inside each set: the sets' own conditions
    -- only bound what it is asked about (and pick the partial index of each set).
    RETURN QUERY
    WITH candidates AS (
        (
            -- workshop_only and hybrid requests preferring the mechanic's own workshop
            SELECT r.*, NULL::timestamptz AS offer_expires_at
            FROM session_requests AS r
            WHERE
                r.preferred_workshop_id = v_workshop
                AND r.routing_type <> 'broadcast'
                AND r.priority IS NULL
                AND ssr_private.routing_offered(r, p_mechanic_id, v_workshop, now())
                AND (r.targeted_until IS NULL OR r.targeted_until <= now())
            ORDER BY r.created_at, r.id
            LIMIT p_limit
        )
        UNION ALL
        (
            -- broadcast requests: everyone
            SELECT r.*, NULL::timestamptz AS offer_expires_at
            FROM session_requests AS r
            WHERE
                r.routing_type = 'broadcast'
                AND r.priority IS NULL
                AND ssr_private.routing_offered(r, p_mechanic_id, v_workshop, now())
                AND (r.targeted_until IS NULL OR r.targeted_until <= now())
            ORDER BY r.created_at, r.id
            LIMIT p_limit
        )
        UNION ALL
        (
            -- hybrid requests of other workshops (offered once their exclusive window is over)
            SELECT r.*, NULL::timestamptz AS offer_expires_at
            FROM session_requests AS r
            WHERE
                r.routing_type = 'hybrid'
                AND r.preferred_workshop_id IS DISTINCT FROM v_workshop
                AND r.priority IS NULL
                AND ssr_private.routing_offered(r, p_mechanic_id, v_workshop, now())
                AND (r.targeted_until IS NULL OR r.targeted_until <= now())
            ORDER BY r.created_at, r.id
            LIMIT p_limit
        )
        UNION ALL
        (
            -- requests in a targeted stage (waves): those this mechanic holds a live offer of
            SELECT r.*, o.expires_at AS offer_expires_at
            FROM offers AS o
            INNER JOIN session_requests AS r ON o.session_request_id = r.id
            WHERE
                o.mechanic_id = p_mechanic_id
                AND o.outcome IS NULL
                AND o.expires_at > now()
                AND r.targeted_until > now()
                AND ssr_private.routing_offered(r, p_mechanic_id, v_workshop, now())
            ORDER BY r.created_at, r.id
            LIMIT p_limit
        )
        UNION ALL
        (
            -- priority customers' requests, any routing type (few: served first when capacity
            -- frees); in a targeted stage they come through the set above, like the others
            SELECT r.*, NULL::timestamptz AS offer_expires_at
            FROM session_requests AS r
            WHERE
                r.priority IS NOT NULL
                AND ssr_private.routing_offered(r, p_mechanic_id, v_workshop, now())
                AND (r.targeted_until IS NULL OR r.targeted_until <= now())
            ORDER BY r.priority DESC, r.created_at, r.id
            LIMIT p_limit
        )
    )

    SELECT
        c.id,
        c.session_id,
        s.score,
        c.routing_type,
        c.preferred_workshop_id,
        coalesce(c.preferred_workshop_id = v_workshop, FALSE),
        c.plan_code,
        c.created_at,
        c.exclusive_until,
        CASE WHEN c.offer_expires_at < coalesce(c.expires_at, 'infinity') THEN c.offer_expires_at ELSE c.expires_at END,
        i.vehicle_make,
        i.vehicle_model,
        i.vehicle_year,
        i.description
    FROM candidates AS c
    CROSS JOIN LATERAL (
        SELECT ssr_private.routing_offer_score(c.routing_type, c.preferred_workshop_id, c.exclusive_until, v_workshop, now())
            AS score
    ) AS s
    LEFT JOIN intakes AS i ON c.intake_id = i.id
    ORDER BY coalesce(c.priority, 0) DESC, s.score DESC, c.created_at, c.id
    LIMIT p_limit;
END
$$;

COMMENT ON FUNCTION get_mechanic_offers(uuid, integer) IS
'Pending requests offered to a mechanic now (eligibility and capacity, workshop_only, hybrid window, not declined), '
'by customer priority, then priority_score, then age.';
