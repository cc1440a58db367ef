-- review_session: the customer of a completed session rates it once (1-5 stars, optional
-- comment). The review feeds workshop_stats (directory ranking) through its triggers.
-- Race-safe: the session row is read FOR SHARE (its status cannot change meanwhile) and
-- the insert is ON CONFLICT (session_id) DO NOTHING, so of two concurrent reviews one wins.
-- Errors, in this order: SR400 session_id / customer_id missing; SR400 (rating) missing or
-- not an integer 1..5; SR400 (comment) longer than 2000 characters; SR403 (customer_id)
-- the transaction does not verifiably act for that customer (ssr_private.assert_acting_for:
-- fail-closed); SR404 (session_id) unknown session;
-- SR403 (customer_id) the session is another customer's; SR409 (session_id) the session is
-- not completed; SR409 (session_id) it was already reviewed.
CREATE OR REPLACE FUNCTION review_session(
    p_session_id uuid,
    p_customer_id uuid,
    p_rating integer,
    p_comment text DEFAULT NULL
) RETURNS reviews
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_session sessions;
    v_review reviews;
BEGIN
    IF p_session_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'session_id is required', COLUMN = 'session_id';
    END IF;
    IF p_customer_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'customer_id is required', COLUMN = 'customer_id';
    END IF;
    IF p_rating IS NULL OR p_rating NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('rating must be an integer from 1 to 5 (got %s)', p_rating),
            COLUMN = 'rating';
    END IF;
    IF length(p_comment) > 2000 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('comment is at most 2000 characters (got %s)', length(p_comment)),
            COLUMN = 'comment';
    END IF;
    PERFORM ssr_private.assert_acting_for('customer', p_customer_id);

    SELECT * INTO v_session FROM sessions AS s WHERE s.id = p_session_id FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404', MESSAGE = format('session_id %s: no such session', p_session_id),
            COLUMN = 'session_id';
    END IF;
    IF v_session.customer_id <> p_customer_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403', MESSAGE = format('session %s is another customer''s', p_session_id),
            COLUMN = 'customer_id';
    END IF;
    IF v_session.status <> 'completed' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format('session %s is %s: only a completed session can be reviewed', p_session_id, v_session.status),
            COLUMN = 'session_id';
    END IF;

    INSERT INTO reviews (session_id, customer_id, mechanic_id, rating, comment)
    VALUES (p_session_id, p_customer_id, v_session.mechanic_id, p_rating, nullif(btrim(p_comment), ''))
    ON CONFLICT (session_id) DO NOTHING
    RETURNING * INTO v_review;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409', MESSAGE = format('session %s was already reviewed (one review per session)', p_session_id),
            COLUMN = 'session_id';
    END IF;
    RETURN v_review;
END
$$;

COMMENT ON FUNCTION review_session(uuid, uuid, integer, text) IS
'The customer of a completed session reviews it once (rating 1-5, optional comment); feeds workshop_stats and the '
'directory ranking. SR400/SR403/SR404/SR409 otherwise.';
