-- hours_open_at: is the mechanic (p_workshop_id: their workshop, NULL for independents) in
-- working hours at p_at? The instant is read as local time in the mechanic's time zone
-- (mechanics.time_zone, else the workshop's, else UTC), so daylight saving time moves the
-- hours with the wall clock. In hours when a span of the local day holds the local time
-- (opens <= t < closes), or a span of the day before runs past midnight and t < its
-- closes (ssr_private.hours_spans: overrides, the week's hours, or always). The rule of
-- the offerable mechanics (routing_offerable_mechanics, the mechanic row policy), of the
-- hours refresh and of the checkout's fail-closed check. No errors (time zones are
-- checked when written).
CREATE OR REPLACE FUNCTION ssr_private.hours_open_at(p_mechanic_id uuid, p_workshop_id uuid, p_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_tz text;
    v_local timestamp;
BEGIN
    v_tz := coalesce(
        (SELECT m.time_zone FROM mechanics AS m WHERE m.id = p_mechanic_id),
        (SELECT o.time_zone FROM organizations AS o WHERE o.id = p_workshop_id),
        'UTC'
    );
    v_local := p_at AT TIME ZONE v_tz;
    RETURN EXISTS (
        SELECT 1 FROM ssr_private.hours_spans(p_mechanic_id, p_workshop_id, v_local::date) AS s
        WHERE s.opens <= v_local::time AND (s.closes > v_local::time OR s.closes <= s.opens)
    ) OR EXISTS (
        SELECT 1 FROM ssr_private.hours_spans(p_mechanic_id, p_workshop_id, v_local::date - 1) AS s
        WHERE s.closes <= s.opens AND v_local::time < s.closes
    );
END
$$;

COMMENT ON FUNCTION ssr_private.hours_open_at(uuid, uuid, timestamptz) IS
'Whether a mechanic is in working hours at an instant, in their time zone (overrides, weekly hours, else always).';
