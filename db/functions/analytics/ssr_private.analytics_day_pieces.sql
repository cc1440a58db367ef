-- analytics_day_pieces: a span [p_from, p_to) cut at UTC day boundaries, for the analytics
-- rollups (analytics_span_days: days add up exactly to weeks and months). Inputs: the start
-- and end of the span (NULL, or an end not after the start: no rows). Returns one row per
-- UTC day the span covers with a positive length: the day and the seconds of the span in
-- it (numeric: exact to the microsecond). No errors.
CREATE OR REPLACE FUNCTION ssr_private.analytics_day_pieces(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (day date, seconds numeric)
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT
        dd.d::date AS day,
        extract(EPOCH FROM least(p_to AT TIME ZONE 'UTC', dd.d + interval '1 day') - greatest(p_from AT TIME ZONE 'UTC', dd.d))
        AS seconds
    FROM generate_series(date_trunc('day', p_from AT TIME ZONE 'UTC'), p_to AT TIME ZONE 'UTC', interval '1 day') AS dd (d)
    WHERE dd.d < p_to AT TIME ZONE 'UTC' AND p_from < p_to
$$;

COMMENT ON FUNCTION ssr_private.analytics_day_pieces(timestamptz, timestamptz) IS
'Internal: a span cut at UTC day boundaries, one row (day, seconds) per day it covers.';
REVOKE ALL ON FUNCTION ssr_private.analytics_day_pieces(timestamptz, timestamptz) FROM PUBLIC;
