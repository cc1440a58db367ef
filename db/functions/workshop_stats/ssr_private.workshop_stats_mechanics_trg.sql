-- workshop_stats and routing_candidates: mechanic counts follow inserts, deletes and
-- changes of a mechanic's workshop_id, status, is_available or in_hours (present = available
-- and in working hours, ssr_private.hours_refresh; a move subtracts from
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
    v_side record;
    v_available integer;
    v_delta integer := 0;
    v_listed integer := 0;
BEGIN
    -- The sides this change touches, the old row's (subtract) and the new row's (add), in
    -- workshop uuid order (the old side first within one workshop): concurrent opposite
    -- moves lock the two workshop rows in the same order and cannot deadlock. OLD is NULL
    -- for an INSERT, NEW for a DELETE.
    FOR v_side IN
        SELECT s.workshop_id, s.sign, s.status, s.is_available
        FROM (
            VALUES
            (OLD.workshop_id, -1, OLD.status, OLD.is_available AND OLD.in_hours, TG_OP IN ('UPDATE', 'DELETE')),
            (NEW.workshop_id, 1, NEW.status, NEW.is_available AND NEW.in_hours, TG_OP IN ('INSERT', 'UPDATE'))
        ) AS s (workshop_id, sign, status, is_available, touched)
        WHERE s.touched
        ORDER BY s.workshop_id, s.sign
    LOOP
        v_available := v_side.sign * routing_mechanic_eligible(
            v_side.status, v_side.is_available, v_side.workshop_id, 'active'
        )::integer;
        PERFORM ssr_private.workshop_stats_apply(
            v_side.workshop_id,
            p_total => v_side.sign,
            p_active => v_side.sign * (v_side.status = 'active')::integer,
            p_available => v_available
        );
        v_listed := v_listed + ssr_private.workshop_listed_flip(v_side.workshop_id, v_available);
    END LOOP;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_delta := v_delta - routing_mechanic_eligible(
            OLD.status, OLD.is_available AND OLD.in_hours, OLD.workshop_id,
            (SELECT o.status FROM organizations AS o WHERE o.id = OLD.workshop_id)
        )::integer;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        v_delta := v_delta + routing_mechanic_eligible(
            NEW.status, NEW.is_available AND NEW.in_hours, NEW.workshop_id,
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
