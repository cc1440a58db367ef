-- ssr_private.directory_cursor_encode: the opaque cursor of a directory row, its position in
-- the directory's order (score, available_mechanics, sessions_served, workshop_id) written
-- as text and encoded in URL-safe base64 without padding, so it goes into a query string as
-- it is. Only ssr_private.directory_cursor_decode reads it back; clients must not build or
-- parse it (its layout may change). Inputs: the four keys of the row. No errors.
-- STABLE, as concat_ws and convert_to are: a plain SQL expression the planner inlines into
-- the directory's query (declared IMMUTABLE it would be called per row instead).
CREATE OR REPLACE FUNCTION ssr_private.directory_cursor_encode(
    p_score numeric,
    p_available integer,
    p_sessions bigint,
    p_workshop_id uuid
) RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT translate(
        encode(convert_to(concat_ws(',', 'w1', p_score, p_available, p_sessions, p_workshop_id), 'UTF8'), 'base64'),
        E'+/=\n', '-_'
    )
$$;

COMMENT ON FUNCTION ssr_private.directory_cursor_encode(numeric, integer, bigint, uuid) IS
'Internal: the opaque directory cursor (URL-safe base64 of the row''s sort key) of one directory row.';
REVOKE ALL ON FUNCTION ssr_private.directory_cursor_encode(numeric, integer, bigint, uuid) FROM PUBLIC;
