-- ssr:after-objects
-- 0091: the outbox relay moved to schema ssr_private (owner only: the worker, which connects as
-- the owner, is the one relay; the app's live hubs only listen). Its file creates
-- ssr_private.routing_outbox_relay; this drops the public one once the new one exists. A relay
-- of another kind that called the public name (an older worker during a rolling upgrade) stops
-- relaying until it is upgraded: upgrade the worker with the schema. Safe to run again. Errors:
-- none of its own.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.routing_outbox_relay(integer);
