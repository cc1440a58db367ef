-- ssr:no-transaction
-- ssr:after-objects
-- 0065: queues the periods of the history already there for refresh_analytics(), which
-- the worker runs every few seconds: the rollups fill in the background, in batches,
-- while the marketplace keeps writing (the queue is insert-only: no writer waits). One
-- row per workshop-day and routing-day with activity; each statement in its own
-- transaction, one table each. Safe to run again (a period queued twice is recounted
-- twice, to the same figures). Inputs: none. Errors: none of its own.

INSERT INTO analytics_changes (workshop_id, preferred_workshop_id, routing_type, created_at)
SELECT DISTINCT
    s.workshop_id,
    s.preferred_workshop_id,
    NULL::text AS routing_type,
    date_trunc('day', s.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS created_at
FROM sessions AS s
WHERE s.workshop_id IS NOT NULL OR s.preferred_workshop_id IS NOT NULL;

INSERT INTO analytics_changes (workshop_id, preferred_workshop_id, routing_type, created_at)
SELECT DISTINCT
    r.workshop_id,
    r.preferred_workshop_id,
    r.routing_type,
    date_trunc('day', r.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS created_at
FROM session_requests AS r;
