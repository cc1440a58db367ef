-- session_request_eligibility_trg: BEFORE INSERT on session_requests, whoever inserts (the
-- fulfillment, create_session_request, a DBA): records the request's routing policy when the row
-- does not set it (routing_policy_id: the one ssr_private.routing_policy_for_request gives), and
-- fills what the offer rule reads besides the routing type, from that policy, when the row does
-- not set it itself:
--   * required_skills: the intake's (intakes.required_skills), lower-cased, deduplicated,
--     blanks dropped (none left: NULL); skills_relax_at = created_at + skills_relax_seconds
--     (NULL parameter: never relaxed);
--   * priority: the customer's priority_tier when above 0 (else NULL: normal);
--   * returning_mechanic_id / returning_until: when returning_window_seconds > 0, the
--     mechanic of the customer's last completed session gets the request alone for that
--     long, if they may take work now (routing_offerable_mechanics: present, in working
--     hours, below capacity), the routing type offers it to them at creation (a hybrid
--     request's previous mechanic must be of the preferred workshop during its window; a
--     workshop_only one of that workshop), and they have the required skills. Else no window.
-- No errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.session_request_eligibility_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_params jsonb;
    v_window integer;
    v_relax integer;
    v_mechanic uuid;
    v_workshop uuid;
BEGIN
    -- The request's policy, recorded on the row when the inserter did not (a direct INSERT; the
    -- fulfillment's session_request_insert sets it with its assignment), so that every later
    -- reader takes the row's own and none chooses again.
    NEW.routing_policy_id := coalesce(
        NEW.routing_policy_id,
        ssr_private.routing_policy_for_request(NEW.customer_id, NEW.preferred_workshop_id, NEW.routing_type)
    );
    v_params := ssr_private.routing_policy_params(NEW.routing_policy_id);
    IF NEW.required_skills IS NULL AND NEW.intake_id IS NOT NULL THEN
        SELECT i.required_skills INTO NEW.required_skills FROM intakes AS i WHERE i.id = NEW.intake_id;
    END IF;
    IF NEW.required_skills IS NOT NULL THEN
        NEW.required_skills := (
            SELECT array_agg(DISTINCT lower(btrim(s)) ORDER BY lower(btrim(s)))
            FROM unnest(NEW.required_skills) AS s
            WHERE btrim(s) <> ''
        );
    END IF;
    IF NEW.required_skills IS NOT NULL AND NEW.skills_relax_at IS NULL THEN
        v_relax := (v_params ->> 'skills_relax_seconds')::integer;
        IF v_relax IS NOT NULL THEN
            NEW.skills_relax_at := NEW.created_at + make_interval(secs => v_relax);
        END IF;
    END IF;
    IF NEW.priority IS NULL THEN
        SELECT CASE WHEN c.priority_tier > 0 THEN c.priority_tier END INTO NEW.priority
        FROM customers AS c WHERE c.id = NEW.customer_id;
    END IF;
    v_window := coalesce((v_params ->> 'returning_window_seconds')::integer, 0);
    IF NEW.returning_mechanic_id IS NULL AND v_window > 0 THEN
        SELECT s.mechanic_id INTO v_mechanic
        FROM sessions AS s
        WHERE s.customer_id = NEW.customer_id AND s.status = 'completed' AND s.mechanic_id IS NOT NULL
        ORDER BY s.ended_at DESC NULLS LAST, s.created_at DESC
        LIMIT 1;
        IF v_mechanic IS NOT NULL THEN
            SELECT om.workshop_id INTO v_workshop
            FROM ssr_private.routing_offerable_mechanics AS om WHERE om.mechanic_id = v_mechanic;
            IF
                FOUND
                AND ssr_private.routing_offer_score(
                    NEW.routing_type, NEW.preferred_workshop_id, NEW.exclusive_until, v_workshop, NEW.created_at
                ) IS NOT NULL
                AND (
                    NEW.required_skills IS NULL
                    OR NEW.required_skills <@ coalesce(ssr_private.mechanic_skills(v_mechanic), '{}')
                )
                THEN
                NEW.returning_mechanic_id := v_mechanic;
                NEW.returning_until := NEW.created_at + make_interval(secs => v_window);
            END IF;
        END IF;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION ssr_private.session_request_eligibility_trg() IS
'Trigger: a new request''s required skills and their relax time, the customer''s priority, and the returning '
'customer''s mechanic window, from its routing policy.';
