-- The design note's "How to Apply" checks, copied literally from the note (Smart Session
-- Routing, "Step 1: Apply Database Migration" item 4 and "Step 2: Verify Migration", then the
-- queries of "What This Unlocks"). tests/test_design_note.py runs them, one statement at a
-- time, as the database owner with the default search_path; WORKSHOP_UUID_HERE and
-- 'workshop-uuid' are the note's placeholders, replaced by a real workshop's id.

SELECT * FROM session_requests LIMIT 1;

-- Check new columns exist on session_requests
SELECT
  id,
  customer_id,
  workshop_id,              -- Should show
  preferred_workshop_id,    -- Should show
  routing_type              -- Should show
FROM session_requests
LIMIT 5;

-- Check new columns exist on sessions
SELECT
  id,
  workshop_id,              -- Should show
  preferred_workshop_id     -- Should show
FROM sessions
LIMIT 5;

-- Test routing function
SELECT * FROM get_mechanics_for_routing(
  'WORKSHOP_UUID_HERE',
  'workshop_only'
);

-- Test directory function
SELECT * FROM get_workshop_directory(10, 0);

-- Check analytics view
SELECT * FROM workshop_session_analytics;

-- Get mechanics based on routing strategy
SELECT * FROM get_mechanics_for_routing('workshop-uuid', 'workshop_only');
SELECT * FROM get_mechanics_for_routing('workshop-uuid', 'hybrid');
SELECT * FROM get_mechanics_for_routing(NULL, 'broadcast');

-- Which workshops served which sessions
SELECT
  w.name,
  COUNT(sr.id) as sessions_served
FROM session_requests sr
JOIN organizations w ON sr.workshop_id = w.id
GROUP BY w.name;

-- Workshop performance dashboard
SELECT * FROM workshop_session_analytics;
