-- 0115: the counters of the abuse limits (rate_limit_take: sign-in, checkout creation, the
-- Checkout Session lookups), one row per key and window, shared by every app process.
-- UNLOGGED: no WAL for a write on every limited request; a crash (not a clean restart)
-- empties the table, which only forgets the counts of the current windows (a client may
-- get one more window's worth), and a standby has no rows (the limits are taken on the
-- primary). Old rows are pruned by rate_limit_take itself. A new table: online.
CREATE UNLOGGED TABLE ssr_private.rate_limit_counters (
    key text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    hits integer NOT NULL CHECK (hits >= 1),
    CHECK (expires_at > window_start)
);

CREATE INDEX rate_limit_counters_expires_idx ON ssr_private.rate_limit_counters (expires_at);

COMMENT ON TABLE ssr_private.rate_limit_counters IS
'Abuse-limit counters (rate_limit_take): one fixed window per key; unlogged, emptied by a crash.';
COMMENT ON COLUMN ssr_private.rate_limit_counters.key IS
'What is limited and for whom, e.g. sign_in:addr:192.0.2.1 (the app builds it).';
COMMENT ON COLUMN ssr_private.rate_limit_counters.window_start IS 'When the current window began (its first hit).';
COMMENT ON COLUMN ssr_private.rate_limit_counters.expires_at IS 'When the current window ends.';
COMMENT ON COLUMN ssr_private.rate_limit_counters.hits IS
'Hits in the window, counted up to the limit plus one (the refused ones are not counted further).';
