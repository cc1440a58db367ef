-- hours_spans: the working spans of one local day for a mechanic (p_workshop_id: their
-- workshop, NULL for independents). Returns (opens, closes) local times; a span whose closes
-- is not after opens runs past midnight into the next day (00:00-00:00: the whole day).
-- The day's override replaces the week: the mechanic's own overrides of that date if any,
-- else the workshop's (a row without times: closed, no span). Without an override, the
-- week's hours of that weekday: the mechanic's own if they have any hours at all, else the
-- workshop's. Nobody defined any weekly hours: one span 00:00-00:00 (always in hours).
-- No errors.
CREATE OR REPLACE FUNCTION ssr_private.hours_spans(p_mechanic_id uuid, p_workshop_id uuid, p_day date)
RETURNS TABLE (opens time, closes time)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
WITH ov_m AS (
    SELECT o.opens, o.closes FROM hours_overrides AS o
    WHERE o.mechanic_id = p_mechanic_id AND o.day = p_day
),

ov AS (
    SELECT ov_m.opens, ov_m.closes FROM ov_m
    UNION ALL
    SELECT o.opens, o.closes FROM hours_overrides AS o
    WHERE o.workshop_id = p_workshop_id AND o.day = p_day AND NOT EXISTS (SELECT 1 FROM ov_m)
),

own AS (
    SELECT EXISTS (SELECT 1 FROM working_hours AS h WHERE h.mechanic_id = p_mechanic_id) AS has
),

week AS (
    SELECT h.opens, h.closes FROM working_hours AS h, own
    WHERE own.has AND h.mechanic_id = p_mechanic_id AND h.iso_dow = extract(ISODOW FROM p_day)
    UNION ALL
    SELECT h.opens, h.closes FROM working_hours AS h, own
    WHERE NOT own.has AND h.workshop_id = p_workshop_id AND h.iso_dow = extract(ISODOW FROM p_day)
),

any_week AS (
    SELECT own.has OR EXISTS (SELECT 1 FROM working_hours AS h WHERE h.workshop_id = p_workshop_id) AS has
    FROM own
)

SELECT ov.opens, ov.closes FROM ov WHERE ov.opens IS NOT NULL
UNION ALL
SELECT week.opens, week.closes FROM week WHERE NOT EXISTS (SELECT 1 FROM ov)
UNION ALL
SELECT time '00:00', time '00:00' FROM any_week WHERE NOT any_week.has AND NOT EXISTS (SELECT 1 FROM ov)
$$;

COMMENT ON FUNCTION ssr_private.hours_spans(uuid, uuid, date) IS
'Working spans of a local day for a mechanic: the day''s override, else the week''s hours (own, else the workshop''s), '
'else the whole day.';
