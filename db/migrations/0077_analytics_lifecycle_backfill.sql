-- ssr:no-transaction
-- ssr:after-objects
-- 0077: the history already there into the lifecycle figures of the rollups (0075), once
-- the triggers that keep them exist. Like 0065: each statement in its own transaction, one
-- source table each; the marketplace keeps writing (the queue is insert-only; no writer
-- waits). First the closed spans already there are cut at UTC days into
-- analytics_span_days (a span closed since the triggers exist already has its pieces:
-- ON CONFLICT keeps them); then every workshop-day and routing-day with activity is queued
-- for refresh_analytics(), which the worker runs every few seconds: the new columns fill in
-- the background, in batches. Safe to run again (a period queued twice is recounted twice,
-- to the same figures). analytics_rollups_rebuild() repairs everything at once when a
-- maintenance window allows. Inputs: none. Errors: none of its own.

INSERT INTO analytics_span_days (source, source_id, day, workshop_id, seconds)
SELECT
    'session' AS source,
    s.id::text AS source_id,
    p.day,
    s.workshop_id,
    p.seconds
FROM sessions AS s
CROSS JOIN LATERAL ssr_private.analytics_day_pieces(s.started_at, s.ended_at) AS p
WHERE s.workshop_id IS NOT NULL AND s.started_at IS NOT NULL AND s.ended_at IS NOT NULL AND p.seconds > 0
ON CONFLICT DO NOTHING;

INSERT INTO analytics_span_days (source, source_id, day, workshop_id, seconds)
SELECT
    'availability' AS source,
    a.id::text AS source_id,
    p.day,
    a.workshop_id,
    p.seconds
FROM mechanic_availability AS a
CROSS JOIN LATERAL ssr_private.analytics_day_pieces(a.started_at, a.ended_at) AS p
WHERE a.workshop_id IS NOT NULL AND a.ended_at IS NOT NULL AND p.seconds > 0
ON CONFLICT DO NOTHING;

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

INSERT INTO analytics_changes (workshop_id, created_at)
SELECT DISTINCT
    d.workshop_id,
    date_trunc('day', d.declined_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS created_at
FROM session_request_declines AS d
WHERE d.workshop_id IS NOT NULL;

INSERT INTO analytics_changes (workshop_id, created_at)
SELECT DISTINCT
    p.workshop_id,
    p.day::timestamp AT TIME ZONE 'UTC' AS created_at
FROM analytics_span_days AS p;
