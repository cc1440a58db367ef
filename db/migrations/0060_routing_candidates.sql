-- 0060: one copy of the routing eligibility rule, and a maintained count of the candidates.
-- The rule lives in db/functions/routing_mechanic_eligible.sql; the view
-- routing_available_mechanics, the mechanic row-level-security policy and the counting
-- triggers all call it. Functions are applied after the migrations, so this migration
-- creates a placeholder with the same signature for the policy to refer to; the
-- function file replaces its body (CREATE OR REPLACE keeps the policy's reference).
-- routing_candidates holds the number of mechanics the rule admits now, kept exact by
-- the triggers that keep workshop_stats (mechanics) and by one on organizations
-- (status); create_session_request reads it instead of counting every mechanic. Its count
-- of the mechanics already there is filled by 0064, once the triggers exist.

CREATE FUNCTION routing_mechanic_eligible(
    p_status text,
    p_is_available boolean,
    p_workshop_id uuid,
    p_workshop_status text
) RETURNS boolean
LANGUAGE sql
IMMUTABLE
AS 'SELECT NULL::boolean';

CREATE TABLE routing_candidates (
    id boolean PRIMARY KEY DEFAULT TRUE CHECK (id),
    eligible_mechanics integer NOT NULL DEFAULT 0 CHECK (eligible_mechanics >= 0)
);
INSERT INTO routing_candidates DEFAULT VALUES;
COMMENT ON TABLE routing_candidates IS
'One row: how many mechanics routing may use right now (the rows of routing_available_mechanics), kept exact by '
'triggers on mechanics and organizations; recounted by workshop_stats_rebuild().';
COMMENT ON COLUMN routing_candidates.id IS 'Always TRUE: makes this a one-row table.';
COMMENT ON COLUMN routing_candidates.eligible_mechanics IS
'Mechanics admitted by routing_mechanic_eligible: active, available, independent or of an active workshop.';
REVOKE ALL ON routing_candidates FROM PUBLIC;

ALTER POLICY session_requests_mechanic_select ON session_requests
USING (
    mechanic_id = coalesce(
        nullif(current_setting('app.mechanic_id', TRUE), ''),
        nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb ->> 'mechanic_id'
    )::uuid
    OR (
        status = 'pending'
        AND (expires_at IS NULL OR expires_at > now())
        AND EXISTS (
            SELECT 1
            FROM mechanics AS m
            LEFT JOIN organizations AS o ON m.workshop_id = o.id
            WHERE
                m.id = coalesce(
                    nullif(current_setting('app.mechanic_id', TRUE), ''),
                    nullif(current_setting('request.jwt.claims', TRUE), '')::jsonb ->> 'mechanic_id'
                )::uuid
                AND routing_mechanic_eligible(m.status, m.is_available, m.workshop_id, o.status)
                AND (
                    session_requests.routing_type = 'broadcast'
                    OR (
                        session_requests.routing_type = 'workshop_only'
                        AND m.workshop_id = session_requests.preferred_workshop_id
                    )
                    OR (
                        session_requests.routing_type = 'hybrid'
                        AND (
                            m.workshop_id = session_requests.preferred_workshop_id
                            OR session_requests.exclusive_until IS NULL
                            OR session_requests.exclusive_until <= now()
                        )
                    )
                )
        )
    )
);
