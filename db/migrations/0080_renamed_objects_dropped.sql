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
-- The owner-only jobs and repairs, moved from public to ssr_private (same name, signature and
-- body; callable by the owner only): the public copies dropped. pg_cron jobs scheduled by an
-- older db/optional/pg_cron.sql call the public names: run that script again after upgrading.
-- (squawk's ban-drop-function is ignored on each DROP: every caller of these names is a file
-- of this release, and the new names exist already.)
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

-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS ssr_private.routing_fill_request_workshop();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS ssr_private.auto_populate_session_workshop();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS ssr_private.refund_closed_request();

-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.refund_claim_due();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.refund_record_attempt(uuid, text, text, text, text, boolean);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.refund_apply_stripe_status(uuid, text, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.reconciliation_run_start(timestamptz);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.reconcile_checkout_session(bigint, text, text, text, integer, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.reconciliation_run_finish(bigint, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.create_session_request(uuid, text, uuid, uuid, uuid, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.cancel_session_request(uuid, text);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.sweep_session_requests(timestamptz);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.routing_outbox_prune(interval);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.refresh_analytics(integer);
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.refresh_analytics();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.workshop_stats_rebuild();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.analytics_rollups_rebuild();
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.mechanic_state_rebuild();
