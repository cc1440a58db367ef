-- ssr_private.verified_identity: the id of the mechanic, customer or staff member (p_kind)
-- that the current transaction verifiably acts for, or NULL (the API functions then refuse:
-- fail-closed). Checked in this order:
--   caller: the role chosen with SET ROLE, else the session's login (SECURITY DEFINER
--           functions change neither, so inside one this is still the API's caller);
--   1. a member of ssr_app (the app's login; superusers are members of every role): the
--      setting app.<kind>_id, which the app sets for one transaction after verifying the
--      bearer token (set_config('app.mechanic_id', sub, TRUE));
--   2. a member of the role <kind> (mechanic or customer; staff act through the app only), e.g. PostgREST after its
--      SET LOCAL ROLE from the token's role claim: the sub of the GUC request.jwt.claims,
--      only when that JSON's role claim is <kind>; app.<kind>_id is ignored here, so a
--      mechanic session that sets it itself gains nothing;
--   3. anyone else (the migration owner included): NULL.
-- A value that is not a UUID counts as no identity.
-- Revoked tokens (ssr_private.revoked_tokens, written by revoke_token at sign-out): in case 1
-- the setting app.token_id, which the app sets beside app.<kind>_id ('jti:<jti>' or
-- 'sha256:<hex of the token>'), in case 2 the claims' jti ('jti:<jti>'); when listed and not
-- yet expired the transaction acts for nobody: SR401. One primary-key lookup, only when set.
-- Whether a staff id is staff, and at which level, is ssr_private.assert_staff's to check.
-- Errors: SR400 (COLUMN kind) when p_kind is not mechanic, customer or staff; SR401 (COLUMN token)
-- when the transaction's token is revoked.
CREATE OR REPLACE FUNCTION ssr_private.verified_identity(p_kind text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_caller name := CASE
        WHEN current_setting('role') = 'none' THEN session_user
        ELSE current_setting('role')::name
    END;
    v_value text;
    v_claims jsonb;
    v_token text;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('mechanic', 'customer', 'staff') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('kind must be mechanic, customer or staff (got %L)', p_kind),
            COLUMN = 'kind';
    END IF;
    IF pg_has_role(v_caller, 'ssr_app', 'MEMBER') THEN
        v_value := current_setting('app.' || p_kind || '_id', TRUE);
        v_token := nullif(current_setting('app.token_id', TRUE), '');
    ELSIF p_kind <> 'staff' AND pg_has_role(v_caller, p_kind, 'MEMBER') THEN
        v_claims := nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb;
        IF jsonb_typeof(v_claims) = 'object' AND v_claims ->> 'role' = p_kind THEN
            v_value := v_claims ->> 'sub';
            v_token := 'jti:' || (v_claims ->> 'jti');
        END IF;
    END IF;
    IF v_token IS NOT NULL AND EXISTS (
        SELECT 1 FROM ssr_private.revoked_tokens AS r
        WHERE r.token_id = v_token AND r.expires_at > now()
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR401', MESSAGE = 'token revoked (signed out): sign in again', COLUMN = 'token';
    END IF;
    IF v_value ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' THEN
        RETURN v_value::uuid;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.verified_identity(text) IS
'The mechanic, customer or staff member the transaction verifiably acts for: app.<kind>_id for the app login (ssr_app members), '
'request.jwt.claims sub (role claim = kind) for the role mechanic/customer; NULL otherwise. '
'SR401 when the token (app.token_id, or the claims'' jti) is revoked.';
