-- staff_resolve_checkout: support marks an unresolved Checkout Session resolved after checking it
-- (in the Stripe Dashboard, with the customer): reconciliation stops retrying it and the staff
-- page lists it as resolved, by whom, with the note (required: what was checked and done). If a
-- webhook or reconciliation meets it again unretrievable, note_unresolved_checkout_session opens
-- it again. Recorded in the audit (checkout.resolve, the session id, the note, attempts, last
-- error, the purchase's status) in the same transaction.
-- Errors, in order: SR400 (checkout_session_id) not a cs_ id; SR400 (note) missing, blank or
-- longer than 500 characters; those of ssr_private.assert_staff (SR400/SR403); SR404
-- (checkout_session_id) not an unresolved Checkout Session; SR409 (checkout_session_id) already
-- resolved.
CREATE OR REPLACE FUNCTION staff_resolve_checkout(p_staff_id uuid, p_checkout_session_id text, p_note text)
RETURNS TABLE (checkout_session_id text, resolved_at timestamptz, action_id bigint)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_row unresolved_checkout_sessions;
    v_action bigint;
BEGIN
    IF p_checkout_session_id IS NULL OR p_checkout_session_id !~ '^cs_[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION USING ERRCODE = 'SR400', MESSAGE = 'checkout session id must look like cs_...',
            COLUMN = 'checkout_session_id';
    END IF;
    IF coalesce(btrim(p_note), '') = '' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = 'note is required: say what you checked and what was done', COLUMN = 'note';
    END IF;
    IF length(p_note) > 500 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR400', MESSAGE = format('note is at most 500 characters (got %s)', length(p_note)),
            COLUMN = 'note';
    END IF;
    PERFORM ssr_private.assert_staff(p_staff_id, 'support');

    SELECT u.* INTO v_row
    FROM unresolved_checkout_sessions AS u
    WHERE u.stripe_checkout_session_id = p_checkout_session_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR404',
            MESSAGE = format('%s: not an unresolved Checkout Session', p_checkout_session_id),
            COLUMN = 'checkout_session_id';
    END IF;
    IF v_row.resolved_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR409',
            MESSAGE = format('%s was already resolved at %s', p_checkout_session_id, v_row.resolved_at),
            COLUMN = 'checkout_session_id';
    END IF;

    UPDATE unresolved_checkout_sessions AS u
    SET resolved_at = now()
    WHERE u.stripe_checkout_session_id = p_checkout_session_id
    RETURNING u.* INTO v_row;
    v_action := ssr_private.staff_action_record(
        p_staff_id, 'checkout.resolve', p_checkout_session_id,
        jsonb_build_object(
            'note', btrim(p_note), 'attempts', v_row.attempts, 'last_error', v_row.last_error,
            'purchase_status', (
                SELECT cp.status FROM checkout_purchases AS cp
                WHERE cp.stripe_checkout_session_id = p_checkout_session_id
            )
        )
    );
    RETURN QUERY SELECT v_row.stripe_checkout_session_id, v_row.resolved_at, v_action;
END
$$;

COMMENT ON FUNCTION staff_resolve_checkout(uuid, text, text) IS
'Staff (support): marks an unresolved Checkout Session resolved after checking it, with a required note; audited. '
'SR400/SR403/SR404/SR409 otherwise.';
