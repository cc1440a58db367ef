-- valid_time_zone: is p_zone a time zone name PostgreSQL knows (an IANA name such as
-- Europe/Berlin, or UTC)? NULL gives NULL (the CHECK constraints of mechanics.time_zone
-- and organizations.time_zone accept it). Declared IMMUTABLE for those constraints: the
-- zone names change only with the time zone database of a PostgreSQL upgrade. No errors.
CREATE OR REPLACE FUNCTION ssr_private.valid_time_zone(p_zone text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_zone IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_zone !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' THEN
        RETURN FALSE;
    END IF;
    PERFORM timestamptz '2000-01-01 00:00+00' AT TIME ZONE p_zone;
    RETURN TRUE;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN FALSE;
END
$$;

COMMENT ON FUNCTION ssr_private.valid_time_zone(text) IS 'Whether a text is a time zone name PostgreSQL knows (NULL: NULL).';
