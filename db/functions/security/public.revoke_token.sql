-- revoke_token: revokes a token until its expiry: from then on no transaction whose
-- app.token_id is p_token_id acts for anyone (ssr_private.verified_identity raises SR401).
-- p_token_id is what the app sets as app.token_id: 'jti:<jti>' or 'sha256:<hex of the token>'.
-- Returns TRUE when newly revoked (or kept longer), FALSE when it was already, or is expired (nothing
-- to keep). Prunes up to 100 rows whose tokens have expired on the way (the list stays small).
-- Errors: SR400 (COLUMN token_id) not one of the two forms; SR400 (COLUMN expires_at) NULL.
-- SECURITY DEFINER (search_path pinned): the app's login has no table privileges.
CREATE OR REPLACE FUNCTION revoke_token(p_token_id text, p_expires_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_inserted integer;
BEGIN
    IF p_token_id IS NULL
        OR NOT (p_token_id ~ '^jti:[\x21-\x7e]{1,200}$' OR p_token_id ~ '^sha256:[0-9a-f]{64}$') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = 'token_id must be jti:<jti> or sha256:<64 hex digits>', COLUMN = 'token_id';
    END IF;
    IF p_expires_at IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'expires_at is required', COLUMN = 'expires_at';
    END IF;
    DELETE FROM ssr_private.revoked_tokens AS r
    WHERE r.token_id IN (
        SELECT e.token_id FROM ssr_private.revoked_tokens AS e
        WHERE e.expires_at <= now()
        ORDER BY e.expires_at
        LIMIT 100
        FOR UPDATE SKIP LOCKED
    );
    IF p_expires_at <= now() THEN
        RETURN FALSE;
    END IF;
    INSERT INTO ssr_private.revoked_tokens AS r (token_id, expires_at)
    VALUES (p_token_id, p_expires_at)
    ON CONFLICT (token_id) DO UPDATE SET expires_at = greatest(r.expires_at, excluded.expires_at)
    WHERE r.expires_at < excluded.expires_at;
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    RETURN v_inserted > 0;
END
$$;

COMMENT ON FUNCTION revoke_token(text, timestamptz) IS
'Revokes a token (app.token_id: jti:<jti> or sha256:<hex>) until p_expires_at; TRUE when newly revoked. '
'SR400 for a malformed id or a NULL expiry.';
