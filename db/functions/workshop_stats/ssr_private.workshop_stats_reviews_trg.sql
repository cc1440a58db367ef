-- workshop_stats: review_count and rating_sum of the workshop that served the
-- reviewed session (sessions.workshop_id). The session row is read FOR SHARE so a
-- concurrent change of its workshop_id waits for this transaction (or this one
-- reads the committed new value), and the review is never counted twice or lost.
-- A review deleted by the cascade of its session's delete finds no session: the
-- sessions trigger already subtracted it.
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_reviews_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_workshop_id uuid;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT s.workshop_id INTO v_workshop_id
        FROM sessions AS s
        WHERE s.id = OLD.session_id
        FOR SHARE;
        IF FOUND THEN
            PERFORM ssr_private.workshop_stats_apply(v_workshop_id, p_reviews => -1, p_rating_sum => -OLD.rating);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT s.workshop_id INTO v_workshop_id
        FROM sessions AS s
        WHERE s.id = NEW.session_id
        FOR SHARE;
        IF FOUND THEN
            PERFORM ssr_private.workshop_stats_apply(v_workshop_id, p_reviews => 1, p_rating_sum => NEW.rating);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ssr_private.workshop_stats_reviews_trg() FROM PUBLIC;
