-- get_mechanic_hours: a mechanic's working hours as they stand, for their dashboard: their
-- time zone (their own, else the workshop's, else UTC, and where it comes from), their own
-- weekly hours (else the workshop's, which apply to them: `source`), the overrides of the
-- next 30 local days that concern them, and whether they are in hours now. Read only.
-- Errors, in this order: SR400 mechanic_id missing; SR403 (COLUMN mechanic_id) the
-- transaction does not verifiably act for that mechanic; SR404 unknown mechanic.
CREATE OR REPLACE FUNCTION get_mechanic_hours(p_mechanic_id uuid)
RETURNS TABLE (
    mechanic_id uuid,
    time_zone text,
    time_zone_source text,
    source text,
    hours jsonb,
    overrides jsonb,
    in_hours boolean
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_m mechanics;
    v_ws_zone text;
    v_zone text;
    v_own boolean;
    v_today date;
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    SELECT * INTO v_m FROM mechanics AS m WHERE m.id = p_mechanic_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    SELECT o.time_zone INTO v_ws_zone FROM organizations AS o WHERE o.id = v_m.workshop_id;
    v_zone := coalesce(v_m.time_zone, v_ws_zone, 'UTC');
    v_today := (now() AT TIME ZONE v_zone)::date;
    v_own := EXISTS (SELECT 1 FROM working_hours AS h WHERE h.mechanic_id = p_mechanic_id);
    RETURN QUERY SELECT
        v_m.id,
        v_zone,
        CASE WHEN v_m.time_zone IS NOT NULL THEN 'mechanic' WHEN v_ws_zone IS NOT NULL THEN 'workshop' ELSE 'default' END,
        CASE
            WHEN v_own THEN 'mechanic'
            WHEN EXISTS (SELECT 1 FROM working_hours AS h WHERE h.workshop_id = v_m.workshop_id) THEN 'workshop'
            ELSE 'always'
        END,
        coalesce((
            SELECT jsonb_agg(
                jsonb_build_object('day', h.iso_dow, 'opens', to_char(h.opens, 'HH24:MI'), 'closes', to_char(h.closes, 'HH24:MI'))
                ORDER BY h.iso_dow, h.opens
            )
            FROM working_hours AS h
            WHERE (v_own AND h.mechanic_id = p_mechanic_id) OR (NOT v_own AND h.workshop_id = v_m.workshop_id)
        ), '[]'),
        coalesce((
            SELECT jsonb_agg(
                jsonb_build_object(
                    'date', o.day, 'opens', to_char(o.opens, 'HH24:MI'), 'closes', to_char(o.closes, 'HH24:MI'),
                    'note', o.note, 'source', CASE WHEN o.mechanic_id IS NOT NULL THEN 'mechanic' ELSE 'workshop' END
                )
                ORDER BY o.day, o.opens NULLS FIRST
            )
            FROM hours_overrides AS o
            WHERE
                (o.mechanic_id = p_mechanic_id OR o.workshop_id = v_m.workshop_id)
                AND o.day BETWEEN v_today AND v_today + 30
        ), '[]'),
        NOT v_m.hours_scheduled OR ssr_private.hours_open_at(v_m.id, v_m.workshop_id, now());
END
$$;

COMMENT ON FUNCTION get_mechanic_hours(uuid) IS
'A mechanic''s working hours as they stand (time zone, weekly hours and their source, the next 30 days'' overrides, '
'in hours now), for their dashboard.';
