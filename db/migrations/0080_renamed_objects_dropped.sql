-- ssr:after-objects
-- 0080: the objects renamed or moved by their files, dropped under their old names once the
-- files have created the new ones (expand/contract: the new object is there before the old
-- one goes, and every caller is a file that was re-applied in the same run).
-- Trigger functions, named after their triggers:
--   ssr_private.auto_populate_session_workshop() -> ssr_private.session_request_populate_workshop()
--   ssr_private.refund_closed_request()          -> ssr_private.refunds_request_closed()
-- and the trigger and function of the first releases, routing_fill_request_workshop, replaced by
-- session_request_populate_workshop: dropped only when present (DROP TRIGGER locks its table
-- ACCESS EXCLUSIVE even when there is nothing to drop), so an existing database keeps one trigger.
-- Safe to run again. Inputs: none. Errors: none of its own.

DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM pg_trigger
        WHERE tgrelid = 'session_requests'::regclass AND tgname = 'routing_fill_request_workshop'
    ) THEN
        DROP TRIGGER routing_fill_request_workshop ON session_requests;
    END IF;
END
$$;

DROP FUNCTION IF EXISTS ssr_private.routing_fill_request_workshop();
DROP FUNCTION IF EXISTS ssr_private.auto_populate_session_workshop();
DROP FUNCTION IF EXISTS ssr_private.refund_closed_request();
