-- rate_limit_take: takes one hit for p_key from a fixed window of p_window_s seconds that
-- starts at the key's first hit; allowed while the window holds at most p_limit hits.
-- retry_after: seconds until the window ends (at least 1) when refused, else 0; remaining:
-- the hits left in the window. Counters are shared by every app process
-- (ssr_private.rate_limit_counters, unlogged: a crash forgets them). Race-safe: one
-- INSERT ... ON CONFLICT DO UPDATE, so concurrent takes of one key serialize on its row and
-- never allow more than p_limit. About one call in 100 also deletes up to 1000 rows whose
-- window ended more than a minute ago.
-- Errors: SR400 COLUMN key (NULL, empty or longer than 200 characters), COLUMN limit (not
-- 1..1000000), COLUMN window (not 1..86400 seconds).
CREATE OR REPLACE FUNCTION rate_limit_take(p_key text, p_limit integer, p_window_s integer)
RETURNS TABLE (allowed boolean, retry_after integer, remaining integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_hits integer;
    v_expires timestamptz;
BEGIN
    IF p_key IS NULL OR length(p_key) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'key must be 1 to 200 characters', COLUMN = 'key';
    END IF;
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('limit must be between 1 and 1000000 (got %s)', p_limit),
            COLUMN = 'limit';
    END IF;
    IF p_window_s IS NULL OR p_window_s NOT BETWEEN 1 AND 86400 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('window must be between 1 and 86400 seconds (got %s)', p_window_s),
            COLUMN = 'window';
    END IF;
    INSERT INTO ssr_private.rate_limit_counters AS c (key, window_start, expires_at, hits)
    VALUES (p_key, v_now, v_now + make_interval(secs => p_window_s), 1)
    ON CONFLICT (key) DO UPDATE
        SET
            window_start = CASE WHEN c.expires_at > v_now THEN c.window_start ELSE excluded.window_start END,
            expires_at = CASE WHEN c.expires_at > v_now THEN c.expires_at ELSE excluded.expires_at END,
            hits = CASE WHEN c.expires_at > v_now THEN least(c.hits + 1, p_limit + 1) ELSE 1 END
    RETURNING c.hits, c.expires_at INTO v_hits, v_expires;
    IF random() < 0.01 THEN
        DELETE FROM ssr_private.rate_limit_counters AS d
        WHERE d.key IN (
            SELECT o.key FROM ssr_private.rate_limit_counters AS o
            WHERE o.expires_at < v_now - interval '1 minute'
            ORDER BY o.expires_at
            LIMIT 1000
            FOR UPDATE SKIP LOCKED
        );
    END IF;
    allowed := v_hits <= p_limit;
    retry_after := CASE WHEN allowed THEN 0 ELSE greatest(1, ceil(extract(EPOCH FROM v_expires - v_now))::integer) END;
    remaining := greatest(p_limit - v_hits, 0);
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION rate_limit_take(text, integer, integer) IS
'Takes one hit for a key from a fixed window (p_limit hits per p_window_s seconds, shared by all app processes): '
'allowed, retry_after seconds, remaining.';
