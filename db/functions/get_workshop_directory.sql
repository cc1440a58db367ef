-- The workshop directory: active workshops with at least one mechanic
-- available now, best first, one page at a time.
--
-- Ranking score: Bayesian average of the review stars,
--     (C * m + rating_sum) / (C + review_count), C = 20 reviews, m = 4.0 stars,
-- rounded to 6 decimals. m is a fixed prior (not the global mean): it is stable
-- (a page does not move when other workshops get reviews), independent of the
-- other rows, and deliberately below the usual 4.5+ marketplace average, so a new
-- workshop has to earn its place: one 5-star review scores 4.048, 200 reviews at
-- 4.8 score 4.727, no reviews score 4.0.
-- Order (a total order, so pages never repeat or skip a workshop while the data
-- does not change): ranking_score DESC, available_mechanics DESC (more people who
-- can take the call now), total_sessions DESC (proven volume), workshop_id ASC.
-- Reads only workshop_stats (trigger-maintained) and organizations: the cost does
-- not grow with the number of sessions or reviews.
CREATE OR REPLACE FUNCTION get_workshop_directory(p_limit integer DEFAULT 20, p_offset integer DEFAULT 0)
RETURNS TABLE (
    workshop_id uuid,
    workshop_name text,
    workshop_email text,
    workshop_status text,
    total_mechanics integer,
    available_mechanics integer,
    avg_rating numeric,
    total_sessions bigint,
    created_at timestamptz,
    ranking_score numeric,
    total_count bigint
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400',
            MESSAGE = format('limit must be an integer between 1 and 100, got %s', coalesce(p_limit::text, 'NULL')),
            COLUMN = 'limit';
    END IF;
    IF p_offset IS NULL OR p_offset < 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400',
            MESSAGE = format('offset must be an integer >= 0, got %s', coalesce(p_offset::text, 'NULL')),
            COLUMN = 'offset';
    END IF;

    RETURN QUERY
    SELECT
        d.id,
        d.name,
        d.contact_email,
        d.status,
        d.total_mechanics,
        d.available_mechanics,
        d.avg_rating,
        d.sessions_served,
        d.created_at,
        d.score,
        count(*) OVER ()
    FROM (
        SELECT
            o.id,
            o.name,
            o.contact_email,
            o.status,
            o.created_at,
            ws.total_mechanics,
            ws.available_mechanics,
            ws.sessions_served,
            round(ws.rating_sum::numeric / nullif(ws.review_count, 0), 2) AS avg_rating,
            round((20 * 4.0 + ws.rating_sum) / (20 + ws.review_count), 6) AS score
        FROM workshop_stats AS ws
        INNER JOIN organizations AS o ON ws.workshop_id = o.id
        WHERE o.status = 'active' AND ws.available_mechanics > 0
    ) AS d
    ORDER BY d.score DESC, d.available_mechanics DESC, d.sessions_served DESC, d.id ASC
    LIMIT p_limit OFFSET p_offset;
END
$$;

COMMENT ON FUNCTION get_workshop_directory(integer, integer) IS
'Directory page: active workshops with an available mechanic, ordered by ranking_score (Bayesian rating, C=20, m=4.0) '
'DESC, available_mechanics DESC, total_sessions DESC, workshop_id ASC; total_count is the size of the whole list. '
'SR400 (COLUMN limit/offset) unless 1 <= limit <= 100 and offset >= 0.';
