-- routing_candidates: a workshop's status change adds or removes its eligible mechanics
-- (by the rule routing_mechanic_eligible under the old and the new status).
-- It locks the workshop's workshop_stats row first, as the mechanics trigger does
-- before it reads the workshop's status, so a mechanic changing at the same time is
-- counted exactly once. The same row gives its available_mechanics: when it is > 0 and the
-- status goes to or from active, the directory's size (listed_workshops) moves by one in the
-- same UPDATE (eligible_mechanics moves then too: no extra row lock). A workshop with mechanics cannot be deleted (RESTRICT), and a
-- new one has none: only status updates matter. SECURITY DEFINER like the other
-- counting triggers. Input: the organizations row before and after; no errors.
CREATE OR REPLACE FUNCTION ssr_private.routing_candidates_organizations_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_delta integer;
    v_available integer;
    v_listed integer := 0;
BEGIN
    SELECT ws.available_mechanics INTO v_available
    FROM workshop_stats AS ws WHERE ws.workshop_id = NEW.id
    FOR UPDATE;
    IF v_available > 0 THEN
        v_listed := (NEW.status = 'active')::integer - (OLD.status IS NOT DISTINCT FROM 'active')::integer;
    END IF;
    SELECT coalesce(sum(
        routing_mechanic_eligible(m.status, m.is_available AND m.in_hours, m.workshop_id, NEW.status)::integer
        - routing_mechanic_eligible(m.status, m.is_available AND m.in_hours, m.workshop_id, OLD.status)::integer
    ), 0)::integer
    INTO v_delta
    FROM mechanics AS m
    WHERE m.workshop_id = NEW.id;
    IF v_delta <> 0 OR v_listed <> 0 THEN
        UPDATE routing_candidates
        SET
            eligible_mechanics = eligible_mechanics + v_delta,
            listed_workshops = listed_workshops + v_listed;
    END IF;
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION ssr_private.routing_candidates_organizations_trg() FROM PUBLIC;
