-- ssr_private.directory_cursor_decode: the sort key a directory cursor stands for (see
-- ssr_private.directory_cursor_encode). Any key is a valid position: a cursor whose row has
-- left the list or moved still says where to continue.
-- Inputs: p_cursor, the text a client sent back; p_param, the name of the parameter it came
-- in (starting_after or ending_before), for the error.
-- Errors: SR400 (COLUMN p_param) when p_cursor is longer than 200 characters or is not a
-- cursor this encoder writes (bad base64, wrong layout, a key of the wrong type).
CREATE OR REPLACE FUNCTION ssr_private.directory_cursor_decode(
    p_cursor text,
    p_param text,
    OUT score numeric,
    OUT available_mechanics integer,
    OUT sessions_served bigint,
    OUT workshop_id uuid
)
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_parts text [];
BEGIN
    IF length(p_cursor) <= 200 AND p_cursor ~ '^[A-Za-z0-9_-]+$' THEN
        BEGIN
            v_parts := string_to_array(
                convert_from(
                    decode(
                        translate(p_cursor, '-_', '+/') || repeat('=', (4 - length(p_cursor) % 4) % 4),
                        'base64'
                    ),
                    'UTF8'
                ),
                ','
            );
            IF cardinality(v_parts) = 5 AND v_parts[1] = 'w1' THEN
                score := v_parts[2]::numeric;
                available_mechanics := v_parts[3]::integer;
                sessions_served := v_parts[4]::bigint;
                workshop_id := v_parts[5]::uuid;
                IF score IS NOT NULL AND available_mechanics IS NOT NULL
                    AND sessions_served IS NOT NULL AND workshop_id IS NOT NULL THEN
                    RETURN;
                END IF;
            END IF;
        EXCEPTION
            WHEN data_exception THEN
                NULL;  -- reported below, like every other malformed cursor
        END;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'SR400',
        MESSAGE = format('%s is not a cursor of this directory (use next_cursor or previous_cursor as given)', p_param),
        COLUMN = p_param;
END
$$;

COMMENT ON FUNCTION ssr_private.directory_cursor_decode(text, text) IS
'Internal: the sort key (score, available_mechanics, sessions_served, workshop_id) of a directory cursor; '
'SR400 (COLUMN p_param) when it is not one.';
REVOKE ALL ON FUNCTION ssr_private.directory_cursor_decode(text, text) FROM PUBLIC;
