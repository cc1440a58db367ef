-- workshop_hours_check: fail closed before payment. A workshop_only request can only be
-- served by its workshop: when the workshop's mechanics are all outside their working hours
-- now, the checkout says so instead of taking a payment that would be refunded at expiry.
-- Raises SR409 (COLUMN workshop_id) when the workshop has active mechanics whom working
-- hours concern and none of its active mechanics is in hours at p_now
-- (ssr_private.hours_open_at). A workshop without hours (or without active mechanics)
-- passes, as before working hours existed. Called by create_checkout_purchase for
-- workshop_only choices; not by the fulfillment (after payment the request is made and
-- waits for its expiry as any other).
CREATE OR REPLACE FUNCTION ssr_private.workshop_hours_check(p_workshop_id uuid, p_now timestamptz DEFAULT now())
RETURNS void
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    IF
        EXISTS (
            SELECT 1 FROM mechanics AS m
            WHERE m.workshop_id = p_workshop_id AND m.status = 'active' AND m.hours_scheduled
        )
        AND NOT EXISTS (
            SELECT 1 FROM mechanics AS m
            WHERE
                m.workshop_id = p_workshop_id AND m.status = 'active'
                AND (NOT m.hours_scheduled OR ssr_private.hours_open_at(m.id, m.workshop_id, p_now))
        )
        THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format(
                'workshop_id %s: nobody at %s is working now (outside working hours); choose hybrid or broadcast, '
                || 'or book when it is open',
                p_workshop_id, (SELECT o.name FROM organizations AS o WHERE o.id = p_workshop_id)
            ),
            COLUMN = 'workshop_id';
    END IF;
END
$$;

COMMENT ON FUNCTION ssr_private.workshop_hours_check(uuid, timestamptz) IS
'SR409 when every active mechanic of a workshop is outside working hours now (the workshop_only checkout fails closed).';
