-- Audit and notifications of the transitions of a request, however they happen
-- (accept_session_request, sweep_session_requests, cancel_session_request or a direct
-- UPDATE): pending -> accepted / expired / cancelled, and the escalation of a hybrid
-- request (escalated_at set). Each writes a routing_events row and the outbox rows.
-- The reason of an escalation is routing.reason when the caller set it (a decline by the
-- last available mechanic of the preferred workshop: preferred_workshop_declined), else
-- preferred_workshop_unavailable (window cut short) or window_passed.
-- Creation is recorded by create_session_request, which knows the candidate counts.
CREATE OR REPLACE FUNCTION ssr_private.routing_audit_request()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_candidates integer;
BEGIN
    IF NEW.escalated_at IS NOT NULL AND OLD.escalated_at IS NULL AND NEW.status = 'pending' THEN
        SELECT rc.eligible_mechanics INTO v_candidates FROM routing_candidates AS rc;
        INSERT INTO routing_events (request_id, event_type, workshop_id, detail)
        VALUES (
            NEW.id, 'escalated', NEW.preferred_workshop_id,
            jsonb_build_object(
                'reason',
                coalesce(
                    nullif(current_setting('routing.reason', TRUE), ''),
                    CASE
                        WHEN NEW.exclusive_until < OLD.exclusive_until THEN 'preferred_workshop_unavailable'
                        ELSE 'window_passed'
                    END
                ),
                'exclusive_until', OLD.exclusive_until,
                'escalated_at', NEW.escalated_at,
                'audience', 'everyone',
                'candidate_count', v_candidates
            )
        );
        PERFORM ssr_private.routing_publish(NEW, 'escalated');
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('accepted', 'expired', 'cancelled') THEN
        INSERT INTO routing_events (request_id, event_type, mechanic_id, workshop_id, detail)
        VALUES (
            NEW.id,
            NEW.status,
            NEW.mechanic_id,
            CASE WHEN NEW.status = 'accepted' THEN NEW.workshop_id ELSE NEW.preferred_workshop_id END,
            jsonb_strip_nulls(jsonb_build_object(
                'from_status', OLD.status,
                'routing_type', NEW.routing_type,
                'outcome', NEW.outcome,
                'preferred_workshop_id', NEW.preferred_workshop_id,
                'served_by_preferred_workshop',
                CASE
                    WHEN NEW.status = 'accepted' AND NEW.preferred_workshop_id IS NOT NULL
                        THEN NEW.workshop_id IS NOT DISTINCT FROM NEW.preferred_workshop_id
                END,
                'independent_mechanic',
                CASE WHEN NEW.status = 'accepted' THEN NEW.workshop_id IS NULL END,
                'inside_window',
                CASE
                    WHEN NEW.status = 'accepted' AND NEW.exclusive_until IS NOT NULL
                        THEN NEW.accepted_at < NEW.exclusive_until
                END,
                'wait_seconds',
                extract(EPOCH FROM coalesce(NEW.accepted_at, NEW.closed_at, now()) - NEW.created_at),
                'expires_at', NEW.expires_at,
                'reason', nullif(current_setting('routing.reason', TRUE), '')
            ))
        );
        PERFORM ssr_private.routing_publish(NEW, NEW.status);
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_audit_request() IS
'Trigger: records escalated/accepted/expired/cancelled in routing_events and announces them through routing_outbox.';
