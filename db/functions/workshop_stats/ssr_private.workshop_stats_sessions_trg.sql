-- workshop_stats: sessions_served, and the review of a session, follow the
-- session's workshop_id. A session that moves to another workshop takes its
-- review with it. Deletes are counted BEFORE the row goes: the ON DELETE CASCADE
-- of reviews runs before any AFTER trigger of ours could still find the review,
-- and the reviews trigger skips a review whose session is already gone.
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_sessions_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_reviews integer := 0;
    v_rating integer := 0;
    v_old_first boolean;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT count(*), coalesce(sum(r.rating), 0)
        INTO v_reviews, v_rating
        FROM reviews AS r
        WHERE r.session_id = OLD.id;
    END IF;
    -- Two workshops are updated in uuid order, so concurrent opposite moves cannot deadlock.
    v_old_first := TRUE;
    IF TG_OP = 'UPDATE' THEN
        v_old_first := coalesce(OLD.workshop_id <= NEW.workshop_id, TRUE);
    END IF;
    IF TG_OP = 'UPDATE' AND NOT v_old_first THEN
        PERFORM ssr_private.workshop_stats_apply(
            NEW.workshop_id, p_sessions => 1, p_reviews => v_reviews, p_rating_sum => v_rating
        );
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM ssr_private.workshop_stats_apply(
            OLD.workshop_id, p_sessions => -1, p_reviews => -v_reviews, p_rating_sum => -v_rating
        );
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND v_old_first) THEN
        PERFORM ssr_private.workshop_stats_apply(
            NEW.workshop_id, p_sessions => 1, p_reviews => v_reviews, p_rating_sum => v_rating
        );
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.workshop_stats_sessions_trg() FROM PUBLIC;
