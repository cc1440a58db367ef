-- ssr_private.api_functions: THE allowlist of the functions in schema public, in one place,
-- with the roles that may execute each (none: the owner only). Every function in public
-- must be listed (tests/test_privileges.py and db/tests/grants.sql fail otherwise);
-- ssr_private.apply_privileges() grants exactly this and nothing else, at the end of
-- every migration run. Functions a role may call that write or read tables are SECURITY
-- DEFINER with a pinned search_path; the roles get no table writes.
--   ssr_app       the app's login for customers and mechanics (DATABASE_URL): the calls of
--                 the HTTP endpoints, plus the documented read-only routing and notification
--                 calls; it records no payment (no Stripe event, no fulfillment);
--   ssr_payments  the app's payments login (PAYMENTS_DATABASE_URL): the Stripe webhook's
--                 calls and the success page's fulfillment and status; no customer or
--                 mechanic action;
--   ssr_worker    the worker (WORKER_DATABASE_URL): here only the unresolved-session note of
--                 reconciliation; its jobs are in ssr_private (ssr_private.private_functions());
--   mechanic      PostgREST-style mechanics: their offers and accept (identity from the JWT).
-- Absent functions are skipped.
-- The owner's own jobs and repairs live in ssr_private, where apply_privileges revokes
-- EXECUTE from everyone but the owner and the grantees of ssr_private.private_functions().
-- No errors.
CREATE OR REPLACE FUNCTION ssr_private.api_functions()
RETURNS TABLE (signature text, grantees text[], purpose text)
LANGUAGE sql
IMMUTABLE
AS $$
SELECT t.signature, t.grantees, t.purpose
FROM (
    VALUES
    ('accept_session_request(uuid,uuid)', ARRAY['ssr_app', 'mechanic'], 'a mechanic accepts a request'),
    ('get_mechanic_offers(uuid,integer)', ARRAY['ssr_app', 'mechanic'], 'what a mechanic may accept now'),
    ('get_workshop_directory(integer,integer,text,text)', ARRAY['ssr_app'], 'the workshop directory'),
    ('create_checkout_purchase(uuid,text,uuid,text,uuid)', ARRAY['ssr_app'], 'a customer starts a purchase'),
    ('attach_checkout_session(uuid,text)', ARRAY['ssr_app'], 'records the Stripe Checkout Session'),
    ('get_checkout_status(text)', ARRAY['ssr_payments'], 'the success page, after its fulfillment'),
    (
        'handle_checkout_event(text,text,boolean,text,text,text,integer,text)', ARRAY['ssr_payments'],
        'a verified Stripe webhook event'
    ),
    ('get_mechanics_for_routing(uuid,text)', ARRAY['ssr_app'], 'candidates of a routing choice'),
    (
        'get_mechanics_for_routing_page(uuid,text,integer,integer,numeric,uuid)', ARRAY['ssr_app'],
        'one keyset page of the candidates of a routing choice'
    ),
    (
        'fulfill_checkout_purchase(text,text,text,integer,text)', ARRAY['ssr_payments'],
        'the success page fulfils a paid Checkout Session'
    ),
    ('cancel_customer_session_request(uuid,uuid)', ARRAY['ssr_app'], 'a customer cancels a pending request'),
    ('handle_refund_event(text,text,boolean,jsonb)', ARRAY['ssr_payments'], 'a verified Stripe refund event'),
    (
        'note_unresolved_checkout_session(text,text,text,bigint)', ARRAY['ssr_payments', 'ssr_worker'],
        'a webhook''s Checkout Session Stripe answered 404 for'
    ),
    ('get_booking_options(uuid)', ARRAY['ssr_app'], 'the booking page of a workshop'),
    ('get_checkout_progress(text)', ARRAY['ssr_app'], 'the live success page'),
    (
        'get_request_queue_position(uuid,uuid)', ARRAY['ssr_app'],
        'the customer''s place in line and estimated wait (success page)'
    ),
    ('get_mechanic_reliability(uuid)', ARRAY['ssr_app'], 'a mechanic''s own reliability figures and rank score'),
    ('get_mechanic_hours(uuid)', ARRAY['ssr_app'], 'a mechanic''s own working hours'),
    ('set_mechanic_hours(uuid,text,jsonb)', ARRAY['ssr_app'], 'a mechanic sets their time zone and weekly hours'),
    ('get_mechanic_channels(uuid)', ARRAY['ssr_app', 'mechanic'], 'LISTEN channels of a mechanic''s dashboard'),
    ('routing_workshop_channel(uuid)', ARRAY['ssr_app', 'mechanic'], 'name of a workshop''s LISTEN channel'),
    (
        'routing_outbox_replay(bigint,text[],integer)', ARRAY[]::text[],
        'raw outbox rows, every channel (owner only: the app reads routing_outbox_feed and get_mechanic_events)'
    ),
    ('routing_outbox_feed(bigint,text[],bigint[],integer)', ARRAY['ssr_app'], 'what a live hub reads when woken'),
    (
        'get_mechanic_events(uuid,bigint,integer)', ARRAY['ssr_app', 'mechanic'],
        'a mechanic''s live stream replay, bounded'
    ),
    ('rate_limit_take(text,integer,integer)', ARRAY['ssr_app'], 'abuse limits of sign-in, checkout, lookups'),
    (
        'routing_mechanic_eligible(text,boolean,uuid,text)', ARRAY['mechanic'],
        'the eligibility rule; the mechanic row policy calls it'
    ),
    (
        'routing_mechanic_offerable(text,boolean,uuid,text,integer,integer)', ARRAY['mechanic'],
        'the eligibility and capacity rule; the mechanic row policy calls it'
    ),
    ('decline_session_request(uuid,uuid,text)', ARRAY['ssr_app', 'mechanic'], 'a mechanic declines a request'),
    ('set_mechanic_presence(uuid,boolean)', ARRAY['ssr_app', 'mechanic'], 'a mechanic goes online or offline'),
    ('mechanic_heartbeat(uuid)', ARRAY['ssr_app', 'mechanic'], 'the dashboard is open (throttled last_seen_at)'),
    ('get_mechanic_presence(uuid)', ARRAY['ssr_app', 'mechanic'], 'a mechanic''s presence and why away'),
    ('start_session(uuid,uuid)', ARRAY['ssr_app', 'mechanic'], 'the accepting mechanic starts the session'),
    ('complete_session(uuid,uuid)', ARRAY['ssr_app', 'mechanic'], 'the accepting mechanic completes the session'),
    ('mark_session_no_show(uuid,uuid)', ARRAY['ssr_app', 'mechanic'], 'the accepting mechanic marks a no-show'),
    ('review_session(uuid,uuid,integer,text)', ARRAY['ssr_app'], 'the customer reviews a completed session'),
    ('revoke_token(text,timestamptz)', ARRAY['ssr_app'], 'sign-out revokes the browser''s token'),
    ('create_routing_experiment(uuid,jsonb)', ARRAY['ssr_app'], 'an admin defines a routing experiment'),
    ('start_routing_experiment(uuid,bigint)', ARRAY['ssr_app'], 'an admin starts a routing experiment'),
    ('stop_routing_experiment(uuid,bigint,text)', ARRAY['ssr_app'], 'an admin stops a routing experiment'),
    ('get_routing_experiments(uuid)', ARRAY['ssr_app'], 'staff: the experiments page'),
    ('get_routing_experiment(uuid,bigint)', ARRAY['ssr_app'], 'staff: one experiment with its results'),
    ('get_signed_in_person(text,uuid)', ARRAY['ssr_app'], 'the pages'' header: who is signed in'),
    ('get_customer_bookings(uuid,integer)', ARRAY['ssr_app'], 'a customer''s bookings page'),
    ('get_mechanic_dashboard(uuid)', ARRAY['ssr_app'], 'a mechanic''s dashboard page'),
    ('get_mechanic_figures(uuid,integer)', ARRAY['ssr_app'], 'a mechanic''s figures page (the ledger)'),
    ('get_staff_requests(uuid,integer)', ARRAY['ssr_app'], 'staff: pending requests'),
    ('get_staff_refunds(uuid,text,integer)', ARRAY['ssr_app'], 'staff: refunds'),
    ('get_staff_checkouts(uuid,boolean,integer)', ARRAY['ssr_app'], 'staff: unresolved Checkout Sessions'),
    ('get_staff_reconciliation_runs(uuid,integer)', ARRAY['ssr_app'], 'staff: reconciliation runs'),
    ('get_staff_workshops(uuid,integer)', ARRAY['ssr_app'], 'staff: workshops'),
    ('get_staff_mechanics(uuid,integer)', ARRAY['ssr_app'], 'staff: mechanics'),
    ('staff_retry_refund(uuid,uuid,text)', ARRAY['ssr_app'], 'staff: a failed refund back to the worker'),
    ('staff_resolve_checkout(uuid,text,text)', ARRAY['ssr_app'], 'staff: an unresolved Checkout Session resolved')
) AS t (signature, grantees, purpose)
$$;

COMMENT ON FUNCTION ssr_private.api_functions() IS
'Allowlist of the functions in schema public and the roles that may execute each (empty: owner only).';
