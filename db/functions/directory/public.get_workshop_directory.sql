-- The workshop directory: active workshops with at least one mechanic available now, best
-- first, one page at a time (ssr_private.workshop_directory_listing holds the rows).
--
-- Ranking score: Bayesian average of the review stars (workshop_stats.directory_score),
--     (C * m + rating_sum) / (C + review_count), rounded to 6 decimals,
-- with m the platform's mean stars and C the default routing policy's rank_prior_strength
-- (20 reviews), as of the last snapshot (ssr_private.directory_prior_refresh, run by the job
-- ranking when the mean moved by 0.01 star): a page does not move with every review
-- elsewhere, and a new workshop starts at the marketplace's typical rating, not above it.
-- Before the first snapshot m = 4.0 and C = 20 (the constants of earlier releases): one
-- 5-star review scores 4.048, 200 reviews at 4.8 score 4.727, no reviews score 4.0.
-- docs/RANKING.md has the formula and why.
-- Order (a total order): ranking_score DESC, available_mechanics DESC (more people who
-- can take the call now), total_sessions DESC (proven volume), workshop_id ASC. The
-- partial index workshop_stats_directory_idx is this order, so a page reads about
-- p_limit + 1 index entries (and their organizations rows), whatever the list's size.
-- Its queries run on generic plans (plan_cache_mode = force_generic_plan): those are the
-- same index walks (checked up to 20,000 workshops), and without the setting PL/pgSQL
-- kept re-planning every call once the list was large (the generic plan's estimate of a
-- parameter LIMIT is 10 % of the rows), which cost more than the page itself.
--
-- Paging, like Stripe's list API. Every row carries row_cursor, the opaque position of the
-- row in the order (ssr_private.directory_cursor_encode):
--   p_starting_after = a row's cursor: the p_limit rows that follow it;
--   p_ending_before  = a row's cursor: the p_limit rows that precede it (in list order);
--   neither: the first page, or the page at p_offset. Offset paging is kept for
--   compatibility: it walks p_offset index entries, so its cost grows with the offset.
-- has_more: there are rows beyond this page in the direction of paging (after the last
-- row; before the first row for p_ending_before). total_count is the size of the whole
-- list, read from the maintained count routing_candidates.listed_workshops (O(1)).
-- Under change: a cursor is a position, not a row, so a walk continues right after the
-- last row it showed even if that row's score moved or it left the list meanwhile. A walk
-- over a list that does not change shows every workshop exactly once; while scores change,
-- a workshop that moves across the cursor between two pages is shown twice or not at all
-- (as in any keyset paging), never a page with a gap or a shifted row as with offsets.
-- total_count is the count of the moment, not of the walk's start.
--
-- Inputs: p_limit 1..100; p_offset >= 0; at most one cursor, and no cursor with p_offset > 0.
-- Errors, in this order: SR400 COLUMN limit (p_limit NULL or outside 1..100); SR400 COLUMN
-- offset (NULL or negative); SR400 COLUMN starting_after / ending_before (not a cursor
-- this function returned); SR400 COLUMN ending_before (both cursors given); SR400 COLUMN
-- offset (a cursor together with p_offset > 0).
-- (DROP first: the two-argument version, without cursors, would make calls ambiguous.)
DROP FUNCTION IF EXISTS get_workshop_directory(integer, integer);

CREATE OR REPLACE FUNCTION get_workshop_directory(
    p_limit integer DEFAULT 20,
    p_offset integer DEFAULT 0,
    p_starting_after text DEFAULT NULL,
    p_ending_before text DEFAULT NULL
)
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
    total_count bigint,
    row_cursor text,
    has_more boolean
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_total bigint;
    v_key record;
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
    IF p_starting_after IS NOT NULL THEN
        SELECT * INTO v_key FROM ssr_private.directory_cursor_decode(p_starting_after, 'starting_after');
    END IF;
    IF p_ending_before IS NOT NULL THEN
        SELECT * INTO v_key FROM ssr_private.directory_cursor_decode(p_ending_before, 'ending_before');
        IF p_starting_after IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'SR400',
                MESSAGE = 'ending_before cannot be combined with starting_after',
                COLUMN = 'ending_before';
        END IF;
    END IF;
    IF p_offset > 0 AND (p_starting_after IS NOT NULL OR p_ending_before IS NOT NULL) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400',
            MESSAGE = 'offset cannot be combined with starting_after or ending_before',
            COLUMN = 'offset';
    END IF;

    SELECT rc.listed_workshops INTO v_total FROM routing_candidates AS rc;

    IF p_starting_after IS NOT NULL THEN
        -- After the cursor: the rest of the cursor's tie group (same first three keys, larger
        -- id), then the rows with smaller keys. Two index ranges merged in order: neither
        -- reads more than p_limit + 1 listed rows.
        RETURN QUERY
        SELECT
            p.workshop_id, p.workshop_name, p.workshop_email, p.workshop_status, p.total_mechanics,
            p.available_mechanics, p.avg_rating, p.sessions_served, p.created_at, p.score, v_total,
            ssr_private.directory_cursor_encode(p.score, p.available_mechanics, p.sessions_served, p.workshop_id),
            count(*) OVER () > p_limit
        FROM (
            (
                SELECT d.*
                FROM ssr_private.workshop_directory_listing AS d
                WHERE
                    (d.score, d.available_mechanics, d.sessions_served)
                    = (v_key.score, v_key.available_mechanics, v_key.sessions_served)
                    AND d.workshop_id > v_key.workshop_id
                ORDER BY d.score DESC, d.available_mechanics DESC, d.sessions_served DESC, d.workshop_id ASC
                LIMIT p_limit + 1
            )
            UNION ALL
            (
                SELECT d.*
                FROM ssr_private.workshop_directory_listing AS d
                WHERE
                    (d.score, d.available_mechanics, d.sessions_served)
                    < (v_key.score, v_key.available_mechanics, v_key.sessions_served)
                ORDER BY d.score DESC, d.available_mechanics DESC, d.sessions_served DESC, d.workshop_id ASC
                LIMIT p_limit + 1
            )
            ORDER BY 10 DESC, 6 DESC, 8 DESC, 1 ASC
            LIMIT p_limit + 1
        ) AS p
        ORDER BY p.score DESC, p.available_mechanics DESC, p.sessions_served DESC, p.workshop_id ASC
        LIMIT p_limit;
    ELSIF p_ending_before IS NOT NULL THEN
        -- Before the cursor: the same two ranges read backwards, nearest first; the page is
        -- the p_limit nearest rows, returned in list order.
        RETURN QUERY
        SELECT
            p.workshop_id, p.workshop_name, p.workshop_email, p.workshop_status, p.total_mechanics,
            p.available_mechanics, p.avg_rating, p.sessions_served, p.created_at, p.score, v_total,
            ssr_private.directory_cursor_encode(p.score, p.available_mechanics, p.sessions_served, p.workshop_id),
            p.more
        FROM (
            SELECT n.*, count(*) OVER () > p_limit AS more
            FROM (
                (
                    SELECT d.*
                    FROM ssr_private.workshop_directory_listing AS d
                    WHERE
                        (d.score, d.available_mechanics, d.sessions_served)
                        = (v_key.score, v_key.available_mechanics, v_key.sessions_served)
                        AND d.workshop_id < v_key.workshop_id
                    ORDER BY d.score ASC, d.available_mechanics ASC, d.sessions_served ASC, d.workshop_id DESC
                    LIMIT p_limit + 1
                )
                UNION ALL
                (
                    SELECT d.*
                    FROM ssr_private.workshop_directory_listing AS d
                    WHERE
                        (d.score, d.available_mechanics, d.sessions_served)
                        > (v_key.score, v_key.available_mechanics, v_key.sessions_served)
                    ORDER BY d.score ASC, d.available_mechanics ASC, d.sessions_served ASC, d.workshop_id DESC
                    LIMIT p_limit + 1
                )
                ORDER BY 10 ASC, 6 ASC, 8 ASC, 1 DESC
                LIMIT p_limit + 1
            ) AS n
            ORDER BY n.score ASC, n.available_mechanics ASC, n.sessions_served ASC, n.workshop_id DESC
            LIMIT p_limit
        ) AS p
        ORDER BY p.score DESC, p.available_mechanics DESC, p.sessions_served DESC, p.workshop_id ASC;
    ELSE
        RETURN QUERY
        SELECT
            p.workshop_id, p.workshop_name, p.workshop_email, p.workshop_status, p.total_mechanics,
            p.available_mechanics, p.avg_rating, p.sessions_served, p.created_at, p.score, v_total,
            ssr_private.directory_cursor_encode(p.score, p.available_mechanics, p.sessions_served, p.workshop_id),
            count(*) OVER () > p_limit
        FROM (
            SELECT d.*
            FROM ssr_private.workshop_directory_listing AS d
            ORDER BY d.score DESC, d.available_mechanics DESC, d.sessions_served DESC, d.workshop_id ASC
            LIMIT p_limit + 1 OFFSET p_offset
        ) AS p
        ORDER BY p.score DESC, p.available_mechanics DESC, p.sessions_served DESC, p.workshop_id ASC
        LIMIT p_limit;
    END IF;
END
$$;

COMMENT ON FUNCTION get_workshop_directory(integer, integer, text, text) IS
'Directory page: active workshops with an available mechanic, ordered by ranking_score (Bayesian rating toward the '
'platform mean, C = rank_prior_strength) DESC, available_mechanics DESC, total_sessions DESC, workshop_id ASC (served by workshop_stats_directory_idx). '
'Keyset paging: p_starting_after / p_ending_before take a row_cursor; p_offset pages by position (cost grows with '
'it). total_count: the whole list (maintained count); has_more: rows beyond the page in its direction. '
'SR400 (COLUMN limit/offset/starting_after/ending_before) on bad arguments.';
