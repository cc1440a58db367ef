-- hours_scheduled_for: do working hours apply to the mechanic (p_workshop_id: their
-- workshop)? TRUE when they or their workshop have weekly hours, or an override dated from
-- yesterday on (older overrides no longer matter). FALSE: always in hours. No errors.
CREATE OR REPLACE FUNCTION ssr_private.hours_scheduled_for(p_mechanic_id uuid, p_workshop_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
SELECT
    EXISTS (SELECT 1 FROM working_hours AS h WHERE h.mechanic_id = p_mechanic_id)
    OR EXISTS (SELECT 1 FROM working_hours AS h WHERE h.workshop_id = p_workshop_id)
    OR EXISTS (
        SELECT 1 FROM hours_overrides AS o
        WHERE o.mechanic_id = p_mechanic_id AND o.day >= current_date - 1
    )
    OR EXISTS (
        SELECT 1 FROM hours_overrides AS o
        WHERE o.workshop_id = p_workshop_id AND o.day >= current_date - 1
    )
$$;

COMMENT ON FUNCTION ssr_private.hours_scheduled_for(uuid, uuid) IS
'Whether working hours or current overrides apply to a mechanic (their own or their workshop''s).';
