-- get_mechanic_dashboard: everything the mechanic's dashboard shows, in one call, acting for the
-- mechanic: their name, workshop, whether they are online (the presence the engine offers by:
-- mechanics.is_available), suspended or not, open sessions against capacity; the offers they may
-- accept now (offers: the rows of get_mechanic_offers, as a JSON array, so this page sees exactly
-- what the API and the live list see); and their sessions (sessions: a JSON array, open ones
-- first, waiting and live, then the 10 most recently created others), each with the customer's
-- name, plan, the intake's vehicle and description, times, the review given, and the moves the
-- database would allow now (can_start: waiting; can_complete: live; can_no_show: waiting), which
-- start_session, complete_session and mark_session_no_show decide in the end; away_reason and
-- away_at when the engine took them offline (offers_timed_out, no_heartbeat: docs/DISPATCH.md);
-- reliability, the row of get_mechanic_reliability (their rank score and its terms) as JSON.
-- Output: one row, or none for a mechanic the database does not know.
-- Errors, in order: SR400 (mechanic_id) missing; SR403 (mechanic_id) the transaction does not act
-- for that mechanic (ssr_private.assert_acting_for); those of get_mechanic_offers.
CREATE OR REPLACE FUNCTION get_mechanic_dashboard(p_mechanic_id uuid)
RETURNS TABLE (
    mechanic_id uuid,
    mechanic_name text,
    workshop_id uuid,
    workshop_name text,
    mechanic_status text,
    online boolean,
    open_sessions integer,
    capacity integer,
    offers jsonb,
    sessions jsonb,
    away_reason text,
    away_at timestamptz,
    reliability jsonb
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);

    RETURN QUERY
    SELECT
        m.id,
        m.name,
        m.workshop_id,
        o.name,
        m.status,
        m.is_available,
        m.open_sessions,
        m.capacity,
        coalesce((SELECT jsonb_agg(to_jsonb(f)) FROM get_mechanic_offers(p_mechanic_id, 50) AS f), '[]'::jsonb),
        coalesce((
            SELECT jsonb_agg(to_jsonb(x) ORDER BY x.is_open DESC, x.created_at DESC)
            FROM (
                SELECT
                    s.id AS session_id,
                    s.status,
                    s.status IN ('waiting', 'live') AS is_open,
                    s.plan_code,
                    pl.name AS plan_name,
                    pl.duration_minutes,
                    coalesce(nullif(btrim(c.name), ''), split_part(c.email, '@', 1)) AS customer_name,
                    s.created_at,
                    s.started_at,
                    s.ended_at,
                    i.vehicle_make,
                    i.vehicle_model,
                    i.vehicle_year,
                    i.description,
                    rv.rating AS review_rating,
                    rv.comment AS review_comment,
                    s.status = 'waiting' AS can_start,
                    s.status = 'live' AS can_complete,
                    s.status = 'waiting' AS can_no_show
                FROM sessions AS s
                INNER JOIN plans AS pl ON s.plan_code = pl.code
                LEFT JOIN customers AS c ON s.customer_id = c.id
                LEFT JOIN intakes AS i ON s.intake_id = i.id
                LEFT JOIN reviews AS rv ON s.id = rv.session_id
                WHERE
                    s.mechanic_id = p_mechanic_id
                    AND (
                        s.status IN ('waiting', 'live')
                        OR s.id IN (
                            SELECT r.id FROM sessions AS r
                            WHERE r.mechanic_id = p_mechanic_id AND r.status NOT IN ('waiting', 'live')
                            ORDER BY r.created_at DESC
                            LIMIT 10
                        )
                    )
            ) AS x
        ), '[]'::jsonb),
        m.away_reason,
        m.away_at,
        (SELECT to_jsonb(rel) FROM get_mechanic_reliability(p_mechanic_id) AS rel)
    FROM mechanics AS m
    LEFT JOIN organizations AS o ON m.workshop_id = o.id
    WHERE m.id = p_mechanic_id;
END
$$;

COMMENT ON FUNCTION get_mechanic_dashboard(uuid) IS
'The mechanic''s dashboard in one call: presence (and why the engine took them away), capacity, the offers of '
'get_mechanic_offers, their open and recent sessions with the moves allowed now, their reliability figures; '
'acting for the mechanic. SR400/SR403 otherwise.';
