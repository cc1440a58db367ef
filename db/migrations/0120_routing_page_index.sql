-- ssr:no-transaction
-- 0120: the order of the routing candidates as an index, built CONCURRENTLY (mechanics keep
-- changing availability while it builds; safe to run again), for
-- get_mechanics_for_routing_page: partial on the presence rule's own columns (active and
-- available; the workshop's status and the capacity are checked on the rows read), keyed
-- by independent (1) or not (0): the hybrid tiers 25 and 50 (an integer: the planner
-- matches an equality on it, where it rewrites a boolean IS NULL and matches nothing); then
-- the rating best first with no rating last (negated, so one ascending row comparison is
-- the keyset condition), then the id. A page reads about `limit` entries from its cursor per tier, whatever the number
-- of available mechanics. The function must keep the key expressions character for
-- character (tests/test_routing_page.py checks the plan uses this index).

CREATE INDEX CONCURRENTLY IF NOT EXISTS mechanics_routing_order_idx
ON mechanics (((workshop_id IS NULL)::integer), (-coalesce(rating, -1)), id)
WHERE is_available AND status = 'active';
