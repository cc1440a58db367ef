-- workshop_stats and routing_candidates: mechanic counts follow inserts, deletes and
-- changes of a mechanic's workshop_id, status or is_available (a move subtracts from
-- the old workshop and adds to the new one). available_mechanics counts by the
-- eligibility rule (routing_mechanic_eligible) as if the workshop were active;
-- routing_candidates counts by the rule with the workshop's real status. The workshop
-- rows are updated first: their row locks order this trigger against a concurrent
-- status change of the workshop (routing_candidates_organizations), which locks the
-- same row before counting, so each sees the other's committed change.
-- routing_candidates.listed_workshops (the directory's size) follows a workshop whose
-- available_mechanics crosses 0 while it is active (ssr_private.workshop_listed_flip, read
-- under the same row lock). Such a flip comes with a change of eligible_mechanics in the
-- same statement but for a move between two active workshops, so both counts go into one
-- UPDATE of the one row: no extra row lock for the directory's count.
-- SECURITY DEFINER: whoever may write mechanics keeps the aggregates right without
-- privileges on workshop_stats or routing_candidates.
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_mechanics_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_old_first boolean;
    v_delta integer := 0;
    v_listed integer := 0;
BEGIN
    -- Two workshops are updated in uuid order, so concurrent opposite moves cannot deadlock.
    v_old_first := TRUE;
    IF TG_OP = 'UPDATE' THEN
        v_old_first := coalesce(OLD.workshop_id <= NEW.workshop_id, TRUE);
    END IF;
    IF TG_OP = 'UPDATE' AND NOT v_old_first THEN
        PERFORM ssr_private.workshop_stats_apply(
            NEW.workshop_id,
            p_total => 1,
            p_active => (NEW.status = 'active')::integer,
            p_available => routing_mechanic_eligible(NEW.status, NEW.is_available, NEW.workshop_id, 'active')::integer
        );
        v_listed := v_listed + ssr_private.workshop_listed_flip(
            NEW.workshop_id,
            routing_mechanic_eligible(NEW.status, NEW.is_available, NEW.workshop_id, 'active')::integer
        );
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM ssr_private.workshop_stats_apply(
            OLD.workshop_id,
            p_total => -1,
            p_active => -(OLD.status = 'active')::integer,
            p_available => -routing_mechanic_eligible(OLD.status, OLD.is_available, OLD.workshop_id, 'active')::integer
        );
        v_listed := v_listed + ssr_private.workshop_listed_flip(
            OLD.workshop_id,
            -routing_mechanic_eligible(OLD.status, OLD.is_available, OLD.workshop_id, 'active')::integer
        );
        v_delta := v_delta - routing_mechanic_eligible(
            OLD.status, OLD.is_available, OLD.workshop_id,
            (SELECT o.status FROM organizations AS o WHERE o.id = OLD.workshop_id)
        )::integer;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND v_old_first) THEN
        PERFORM ssr_private.workshop_stats_apply(
            NEW.workshop_id,
            p_total => 1,
            p_active => (NEW.status = 'active')::integer,
            p_available => routing_mechanic_eligible(NEW.status, NEW.is_available, NEW.workshop_id, 'active')::integer
        );
        v_listed := v_listed + ssr_private.workshop_listed_flip(
            NEW.workshop_id,
            routing_mechanic_eligible(NEW.status, NEW.is_available, NEW.workshop_id, 'active')::integer
        );
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        v_delta := v_delta + routing_mechanic_eligible(
            NEW.status, NEW.is_available, NEW.workshop_id,
            (SELECT o.status FROM organizations AS o WHERE o.id = NEW.workshop_id)
        )::integer;
    END IF;
    IF v_delta <> 0 OR v_listed <> 0 THEN
        UPDATE routing_candidates
        SET
            eligible_mechanics = eligible_mechanics + v_delta,
            listed_workshops = listed_workshops + v_listed;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.workshop_stats_mechanics_trg() FROM PUBLIC;
