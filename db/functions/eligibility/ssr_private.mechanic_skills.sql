-- mechanic_skills: a mechanic's declared skills (mechanics.skills; NULL: none or unknown
-- mechanic), for the skills term of the offer rule (ssr_private.routing_offered), which the
-- role mechanic evaluates in its row policy without the column privilege. No errors.
CREATE OR REPLACE FUNCTION ssr_private.mechanic_skills(p_mechanic_id uuid)
RETURNS text[]
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
SELECT m.skills FROM mechanics AS m WHERE m.id = p_mechanic_id
$$;

COMMENT ON FUNCTION ssr_private.mechanic_skills(uuid) IS 'A mechanic''s declared skills (the skills term of the offer rule).';
