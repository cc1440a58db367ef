-- workshop_stats: mechanic counts follow inserts, deletes and changes of a
-- mechanic's workshop_id, status or is_available (a move subtracts from the old
-- workshop and adds to the new one). SECURITY DEFINER: whoever may write
-- mechanics keeps the aggregates right without privileges on workshop_stats.
CREATE OR REPLACE FUNCTION workshop_stats_mechanics_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_old_first boolean;
BEGIN
    -- Two workshops are updated in uuid order, so concurrent opposite moves cannot deadlock.
    v_old_first := TRUE;
    IF TG_OP = 'UPDATE' THEN
        v_old_first := coalesce(OLD.workshop_id <= NEW.workshop_id, TRUE);
    END IF;
    IF TG_OP = 'UPDATE' AND NOT v_old_first THEN
        PERFORM workshop_stats_apply(
            NEW.workshop_id,
            p_total => 1,
            p_active => (NEW.status = 'active')::integer,
            p_available => (NEW.status = 'active' AND NEW.is_available)::integer
        );
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM workshop_stats_apply(
            OLD.workshop_id,
            p_total => -1,
            p_active => -(OLD.status = 'active')::integer,
            p_available => -(OLD.status = 'active' AND OLD.is_available)::integer
        );
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND v_old_first) THEN
        PERFORM workshop_stats_apply(
            NEW.workshop_id,
            p_total => 1,
            p_active => (NEW.status = 'active')::integer,
            p_available => (NEW.status = 'active' AND NEW.is_available)::integer
        );
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION workshop_stats_mechanics_trg() FROM PUBLIC;
