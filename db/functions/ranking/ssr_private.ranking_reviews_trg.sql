-- ranking_reviews_trg: a review added, removed or changed moves its mechanic's stars
-- (mechanic_reliability.review_count, rating_sum) and the platform's (ranking_platform: the
-- prior of every shrunk rating), then rescores that mechanic (the others' scores follow the
-- platform mean at their next rescoring, by the job ranking). No errors of its own.
CREATE OR REPLACE FUNCTION ssr_private.ranking_reviews_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_side record;
BEGIN
    FOR v_side IN
        SELECT s.mechanic_id, s.sign, s.rating
        FROM (
            VALUES
            (OLD.mechanic_id, -1, OLD.rating::integer, TG_OP IN ('UPDATE', 'DELETE')),
            (NEW.mechanic_id, 1, NEW.rating::integer, TG_OP IN ('INSERT', 'UPDATE'))
        ) AS s (mechanic_id, sign, rating, touched)
        WHERE s.touched
        ORDER BY s.mechanic_id, s.sign
    LOOP
        INSERT INTO mechanic_reliability AS r (mechanic_id, review_count, rating_sum, updated_at)
        VALUES (v_side.mechanic_id, v_side.sign, v_side.sign * v_side.rating, now())
        ON CONFLICT (mechanic_id) DO UPDATE
        SET
            review_count = r.review_count + excluded.review_count,
            rating_sum = r.rating_sum + excluded.rating_sum,
            updated_at = now();
        UPDATE ranking_platform AS p
        SET review_count = p.review_count + v_side.sign, rating_sum = p.rating_sum + v_side.sign * v_side.rating
        WHERE p.id;
        PERFORM ssr_private.ranking_refresh_mechanic(v_side.mechanic_id);
    END LOOP;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.ranking_reviews_trg() IS
'Trigger: a review moves its mechanic''s and the platform''s stars and rescores the mechanic.';
