-- Demo presence history: each demo session's mechanic was available from 45 minutes before
-- the call to 45 minutes after it, so the demo's utilisation (analytics) reads sensibly.
-- Idempotent: an interval already there is not added again.
INSERT INTO mechanic_availability (mechanic_id, workshop_id, started_at, ended_at)
SELECT
    s.mechanic_id,
    s.workshop_id,
    s.started_at - interval '45 minutes' AS started_at,
    s.ended_at + interval '45 minutes' AS ended_at
FROM sessions AS s
WHERE
    s.stripe_checkout_session_id LIKE 'cs\_test\_demo%'
    AND s.started_at IS NOT NULL
    AND s.ended_at IS NOT NULL
    AND NOT EXISTS (
        SELECT 1
        FROM mechanic_availability AS a
        WHERE a.mechanic_id = s.mechanic_id AND a.started_at = s.started_at - interval '45 minutes'
    );
