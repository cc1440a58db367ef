-- ssr_private.workshop_listed_flip: how the directory's size (routing_candidates.
-- listed_workshops) changes when a workshop's available_mechanics has just moved by
-- p_available: +1 when it rose from 0 and the workshop is active, -1 when it fell to 0 and
-- the workshop is active, else 0. Called by the mechanics counting trigger right after its
-- own ssr_private.workshop_stats_apply of the same delta, while it holds the workshop's
-- workshop_stats row lock (so the value it reads is its own, and a concurrent status change
-- of the workshop, which locks that row first, is seen either before or after, never half).
-- Inputs: the workshop (NULL: an independent mechanic, 0) and the delta. No errors.
CREATE OR REPLACE FUNCTION ssr_private.workshop_listed_flip(p_workshop_id uuid, p_available integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
DECLARE
    v_now integer;
BEGIN
    IF p_workshop_id IS NULL OR p_available = 0 THEN
        RETURN 0;
    END IF;
    SELECT ws.available_mechanics INTO v_now FROM workshop_stats AS ws WHERE ws.workshop_id = p_workshop_id;
    IF (v_now > 0) = (v_now - p_available > 0) THEN
        RETURN 0;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM organizations AS o WHERE o.id = p_workshop_id AND o.status = 'active') THEN
        RETURN 0;
    END IF;
    RETURN sign(p_available)::integer;
END
$$;

COMMENT ON FUNCTION ssr_private.workshop_listed_flip(uuid, integer) IS
'Internal: +1/-1 when a change of p_available in the workshop''s available_mechanics just listed/unlisted it.';
REVOKE ALL ON FUNCTION ssr_private.workshop_listed_flip(uuid, integer) FROM PUBLIC;
