-- note_unresolved_checkout_session: a Checkout Session named by a verified webhook (or
-- retried by reconciliation) that the Stripe API answered 404 for. Recorded in its own
-- transaction while the webhook is refused, so that it stays visible and reconcilable:
-- first time inserted, then attempts and last_seen_at move on (and resolved_at is
-- cleared if it had been set). With p_run_id, also recorded as a not_retrievable action
-- of that reconciliation run. Errors: SR400 a malformed session id.
CREATE OR REPLACE FUNCTION note_unresolved_checkout_session(
    p_checkout_session_id text,
    p_event_id text,
    p_error text,
    p_run_id bigint DEFAULT NULL
) RETURNS unresolved_checkout_sessions
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
    v_row unresolved_checkout_sessions;
BEGIN
    IF p_checkout_session_id IS NULL OR p_checkout_session_id !~ '^cs_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'checkout session id must look like cs_...',
            COLUMN = 'checkout_session_id';
    END IF;
    INSERT INTO unresolved_checkout_sessions AS u (stripe_checkout_session_id, first_event_id, last_error)
    VALUES (p_checkout_session_id, p_event_id, left(p_error, 2000))
    ON CONFLICT (stripe_checkout_session_id) DO UPDATE
    SET
        attempts = u.attempts + 1, last_seen_at = now(), last_error = excluded.last_error, resolved_at = NULL,
        first_event_id = coalesce(u.first_event_id, excluded.first_event_id)
    RETURNING u.* INTO v_row;
    IF p_run_id IS NOT NULL THEN
        INSERT INTO reconciliation_actions (run_id, stripe_checkout_session_id, action, detail)
        VALUES (p_run_id, p_checkout_session_id, 'not_retrievable', left(p_error, 2000));
        UPDATE reconciliation_runs AS r SET problems = r.problems + 1 WHERE r.id = p_run_id;
    END IF;
    RETURN v_row;
END
$$;

COMMENT ON FUNCTION note_unresolved_checkout_session(text, text, text, bigint) IS
'Records a Checkout Session Stripe answered 404 for (kept reconcilable until retrieved); optionally as a run action.';
