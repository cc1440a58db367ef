-- get_mechanic_figures: a mechanic's own figures for the last p_days days (1..366; default 30),
-- acting for the mechanic, from the ledger (analytics.session_ledger: the sessions they served,
-- created in the period) and their reviews. One row per currency they were paid in (one row with
-- a NULL currency and zero amounts when they served nothing in the period):
--   period_start, period_end; sessions_served (every ledger row: sessions they accepted),
--   completed, no_shows, in_progress (waiting or live); reviews and avg_rating in the period, and
--   all_time_reviews, all_time_rating; gross_minor (what customers paid), refunded_minor,
--   net_minor, platform_fee_minor, share_minor (what the payee is owed) and payee_type
--   (workshop: the share is owed to their workshop; independent_mechanic: to them).
-- Errors, in order: SR400 (mechanic_id) missing; SR400 (days) out of range; SR403 (mechanic_id)
-- the transaction does not act for that mechanic (ssr_private.assert_acting_for).
CREATE OR REPLACE FUNCTION get_mechanic_figures(p_mechanic_id uuid, p_days integer DEFAULT 30)
RETURNS TABLE (
    period_start timestamptz,
    period_end timestamptz,
    currency text,
    payee_type text,
    sessions_served integer,
    completed integer,
    no_shows integer,
    in_progress integer,
    reviews integer,
    avg_rating numeric,
    all_time_reviews integer,
    all_time_rating numeric,
    gross_minor bigint,
    refunded_minor bigint,
    net_minor bigint,
    platform_fee_minor bigint,
    share_minor bigint
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_since timestamptz := now() - make_interval(days => p_days);
BEGIN
    IF p_mechanic_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'mechanic_id is required', COLUMN = 'mechanic_id';
    END IF;
    IF p_days IS NULL OR p_days NOT BETWEEN 1 AND 366 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('days must be from 1 to 366 (got %s)', p_days), COLUMN = 'days';
    END IF;
    PERFORM ssr_private.assert_acting_for('mechanic', p_mechanic_id);

    RETURN QUERY
    WITH led AS (
        SELECT
            l.currency,
            min(l.payee_type) AS payee_type,
            count(*)::integer AS served,
            (count(*) FILTER (WHERE l.session_status = 'completed'))::integer AS completed,
            (count(*) FILTER (WHERE l.session_status = 'no_show'))::integer AS no_shows,
            (count(*) FILTER (WHERE l.session_status IN ('waiting', 'live')))::integer AS in_progress,
            sum(l.gross_minor)::bigint AS gross,
            sum(l.refunded_minor)::bigint AS refunded,
            sum(l.net_minor)::bigint AS net,
            sum(l.platform_fee_minor)::bigint AS fee,
            sum(l.payee_share_minor)::bigint AS share
        FROM analytics.session_ledger AS l
        WHERE l.mechanic_id = p_mechanic_id AND l.created_at >= v_since
        GROUP BY l.currency
    ),
    rev AS (
        SELECT
            (count(*) FILTER (WHERE r.created_at >= v_since))::integer AS n,
            round(avg(r.rating) FILTER (WHERE r.created_at >= v_since), 2) AS rating,
            count(*)::integer AS n_all,
            round(avg(r.rating), 2) AS rating_all
        FROM reviews AS r
        WHERE r.mechanic_id = p_mechanic_id
    )
    SELECT
        v_since, now(), led.currency, led.payee_type,
        coalesce(led.served, 0), coalesce(led.completed, 0), coalesce(led.no_shows, 0), coalesce(led.in_progress, 0),
        rev.n, rev.rating, rev.n_all, rev.rating_all,
        coalesce(led.gross, 0), coalesce(led.refunded, 0), coalesce(led.net, 0), coalesce(led.fee, 0),
        coalesce(led.share, 0)
    FROM rev
    LEFT JOIN led ON TRUE
    ORDER BY led.currency;
END
$$;

COMMENT ON FUNCTION get_mechanic_figures(uuid, integer) IS
'A mechanic''s figures for the last N days, from the ledger and their reviews: sessions, rating, gross, refunded, '
'share owed (per currency); acting for the mechanic. SR400/SR403 otherwise.';
