-- 0110: the revocation list of the app's tokens. Signing out revokes the browser's token
-- (public.revoke_token); ssr_private.verified_identity refuses (SR401) a transaction whose
-- app.token_id is listed, in the same transaction as the call it guards (one primary-key
-- lookup). A row is kept until its token would have expired anyway (expires_at, the token's
-- exp), then pruned (on insert, by revoke_token). Owner-only: no role gets table privileges.
-- Online: a new, empty table.

CREATE TABLE IF NOT EXISTS ssr_private.revoked_tokens (
    token_id text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT revoked_tokens_token_id_format CHECK (
        token_id ~ '^jti:[\x21-\x7e]{1,200}$' OR token_id ~ '^sha256:[0-9a-f]{64}$'
    )
);

COMMENT ON TABLE ssr_private.revoked_tokens IS
'Revoked tokens (sign-out), by jti or by the SHA-256 of a token without one, until their exp; '
'ssr_private.verified_identity refuses them.';
COMMENT ON COLUMN ssr_private.revoked_tokens.token_id IS
'jti:<the token''s jti> or sha256:<hex SHA-256 of the whole token> (what the app sets as app.token_id).';
COMMENT ON COLUMN ssr_private.revoked_tokens.expires_at IS
'The token''s exp: past it the token is refused anyway, and the row may be pruned.';
COMMENT ON COLUMN ssr_private.revoked_tokens.revoked_at IS 'When it was revoked.';

CREATE INDEX IF NOT EXISTS revoked_tokens_expires_at_idx ON ssr_private.revoked_tokens (expires_at);

REVOKE ALL ON ssr_private.revoked_tokens FROM PUBLIC;
