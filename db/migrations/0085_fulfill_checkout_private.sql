-- ssr:after-objects
-- 0085: fulfill_checkout moved to schema ssr_private (owner only, called by
-- fulfill_checkout_purchase); its file creates ssr_private.fulfill_checkout, this drops the
-- old public one once the new one exists (it was owner-only: no client of the API called it).
-- Safe to run again. Errors: none of its own.
-- squawk-ignore ban-drop-function
DROP FUNCTION IF EXISTS public.fulfill_checkout(text, text, uuid, uuid, text, integer, text, uuid, uuid, text);
