-- set_mechanic_hours: a mechanic sets their own time zone and weekly working hours (their
-- dashboard). p_time_zone: an IANA name (NULL: their workshop's, else UTC). p_hours: a JSON
-- array of {"day": 1..7 (Monday..Sunday), "opens": "HH:MM", "closes": "HH:MM"} in local time
-- (closes not after opens: past midnight; "00:00"-"00:00": the whole day), at most 28 spans;
-- [] removes their own hours (their workshop's apply again, else always in hours). Replaces
-- their weekly hours in one transaction; the hours triggers refresh in_hours and the counts at
-- once. Returns get_mechanic_hours afterwards. Overrides (holidays, leave) are staff's and
-- the DBA's (hours_overrides).
-- Errors, in this order, writing nothing: SR400 mechanic_id missing; SR403 (COLUMN
-- mechanic_id) not acting for that mechanic; SR404 unknown mechanic; SR400 (COLUMN
-- time_zone) not a time zone PostgreSQL knows; SR400 (COLUMN hours) not an array of at most
-- 28 such spans.
CREATE OR REPLACE FUNCTION set_mechanic_hours(p_mechanic_id uuid, p_time_zone text, p_hours jsonb)
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
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_span jsonb;
    v_spans jsonb := '[]'::jsonb;
    v_zone text := nullif(btrim(p_time_zone), '');
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);
    PERFORM 1 FROM mechanics AS m WHERE m.id = p_mechanic_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('mechanic_id %s: no such mechanic', p_mechanic_id),
            COLUMN = 'mechanic_id';
    END IF;
    IF v_zone IS NOT NULL AND NOT ssr_private.valid_time_zone(v_zone) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('time_zone %L is not a known time zone (e.g. Europe/Berlin)', v_zone),
            COLUMN = 'time_zone';
    END IF;
    IF p_hours IS NULL OR jsonb_typeof(p_hours) <> 'array' OR jsonb_array_length(p_hours) > 28 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = 'hours must be an array of at most 28 {day, opens, closes} spans',
            COLUMN = 'hours';
    END IF;
    FOR v_span IN SELECT e FROM jsonb_array_elements(p_hours) AS e LOOP
        BEGIN
            IF
                jsonb_typeof(v_span) <> 'object'
                OR EXISTS (SELECT 1 FROM jsonb_object_keys(v_span) AS k WHERE k NOT IN ('day', 'opens', 'closes'))
                OR jsonb_typeof(v_span -> 'day') <> 'number'
                OR (v_span ->> 'day')::integer NOT BETWEEN 1 AND 7
                OR (v_span ->> 'opens') !~ '^[0-2][0-9]:[0-5][0-9]$'
                OR (v_span ->> 'closes') !~ '^[0-2][0-9]:[0-5][0-9]$'
                THEN
                RAISE EXCEPTION USING ERRCODE = 'SR400';
            END IF;
            v_spans := v_spans || jsonb_build_object(
                'day', (v_span ->> 'day')::integer,
                'opens', (v_span ->> 'opens')::time,
                'closes', (v_span ->> 'closes')::time
            );
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400',
                MESSAGE = format(
                    'hours: %s is not a span {"day": 1..7, "opens": "HH:MM", "closes": "HH:MM"}', left(v_span::text, 80)
                ),
                COLUMN = 'hours';
        END;
    END LOOP;
    UPDATE mechanics AS m SET time_zone = v_zone WHERE m.id = p_mechanic_id AND m.time_zone IS DISTINCT FROM v_zone;
    DELETE FROM working_hours AS h WHERE h.mechanic_id = p_mechanic_id;
    INSERT INTO working_hours (mechanic_id, iso_dow, opens, closes)
    SELECT p_mechanic_id, (s ->> 'day')::smallint, (s ->> 'opens')::time, (s ->> 'closes')::time
    FROM jsonb_array_elements(v_spans) AS s;
    PERFORM ssr_private.hours_refresh(now(), p_mechanic_id, NULL);  -- the time zone may have moved the hours
    RETURN QUERY SELECT * FROM get_mechanic_hours(p_mechanic_id);
END
$$;

COMMENT ON FUNCTION set_mechanic_hours(uuid, text, jsonb) IS
'A mechanic sets their own time zone and weekly working hours (SR400 time_zone / hours when malformed).';
