-- offers_request_closed_trg: a request that leaves pending (accepted, expired, cancelled,
-- however: accept, the sweep, a cancel, a direct UPDATE) rescinds its live offers in the
-- same transaction, except the accepting mechanic's own (accept_session_request records it
-- accepted right after). reason: taken, expired or cancelled. The accept that fires it
-- holds the request's row, so no offer of the request is made meanwhile; a timeout racing
-- it waits on (or skipped) the offer rows, so each offer ends exactly once.
CREATE OR REPLACE FUNCTION ssr_private.offers_request_closed_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    UPDATE offers AS o
    SET
        outcome = 'rescinded',
        outcome_at = greatest(now(), o.offered_at),
        reason = CASE WHEN NEW.status = 'accepted' THEN 'taken' ELSE NEW.status END
    WHERE
        o.session_request_id = NEW.id
        AND o.outcome IS NULL
        AND o.mechanic_id IS DISTINCT FROM CASE WHEN NEW.status = 'accepted' THEN NEW.mechanic_id END;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.offers_request_closed_trg() IS
'Trigger: a request that leaves pending rescinds its live offers (but the accepting mechanic''s).';

REVOKE ALL ON FUNCTION ssr_private.offers_request_closed_trg() FROM PUBLIC;
