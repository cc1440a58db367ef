-- 0140: the dispatcher's offers, distribution modes and presence.
--   * routing_parameters: the distribution, offer and presence parameters, with defaults
--     that are the behaviour before this release (broadcast, no offer cap, no presence
--     grace, no auto-away), so a database without configuration routes as it did.
--   * session_requests.dispatch_mode / dispatch_wave / dispatch_next_at / targeted_until:
--     a request distributed in waves (staggered, round_robin) is offered only to the
--     mechanics holding a live offer until targeted_until; NULL (broadcast, every request
--     made before this release): offered by the offer rule alone, as before.
--   * offers.stage: window (a hybrid request's exclusive window), wave (a targeted wave
--     outside a window), open (the open stage: the offer row is written when the mechanic
--     acts); NOT VALID here, validated by 0141.
--   * mechanics.last_seen_at / online_at / away_reason / away_at: presence that tells the
--     truth (heartbeats, auto-away and why).
--   * offer_wait_thresholds: the time-to-accept buckets of analytics.offer_statistics.
--   * routing_outbox.event_type: + 'offered' (a new wave of targeted offers); the check is
--     replaced NOT VALID (every existing row satisfies the wider check), validated by 0141.
-- Online: nullable columns without default; constraints NOT VALID; the indexes come
-- CONCURRENTLY in 0141.

INSERT INTO routing_parameters (
    name, kind, default_value, min_value, max_value, allowed_values, nullable, description
) VALUES
(
    'distribution_mode', 'text', '"broadcast"', NULL, NULL, ARRAY['broadcast', 'staggered', 'round_robin'], FALSE,
    'How a request is offered: broadcast (everyone the offer rule allows at once), staggered (the top k by '
    'offer score, widening wave by wave), round_robin (one mechanic at a time, the longest idle of the best tier).'
),
(
    'distribution_k', 'integer', '3', 1, 1000, NULL, FALSE,
    'staggered: how many mechanics hold a live offer in the first wave.'
),
(
    'distribution_widen_step', 'integer', '2', 0, 1000, NULL, FALSE,
    'staggered: how many more live offers each later wave allows (wave w: k + w * step).'
),
(
    'distribution_wave_seconds', 'integer', '20', 1, 3600, NULL, FALSE,
    'staggered, round_robin: seconds between waves (a wave opens earlier when every offer of the last one ended).'
),
(
    'distribution_waves', 'integer', '3', 1, 1000, NULL, FALSE,
    'staggered, round_robin: targeted waves before the request opens to everyone the offer rule allows.'
),
(
    'offer_timeout_seconds', 'integer', '20', 1, 3600, NULL, FALSE,
    'How long a targeted offer waits for an answer before it times out.'
),
(
    'offer_max_live_per_mechanic', 'integer', 'null', 1, 1000, NULL, TRUE,
    'At most this many live targeted offers per mechanic (null: no cap).'
),
(
    'presence_grace_seconds', 'integer', 'null', 10, 86400, NULL, TRUE,
    'A mechanic whose dashboard sent no heartbeat for this long goes away (reason no_heartbeat; null: never).'
),
(
    'presence_away_after_timeouts', 'integer', 'null', 1, 100, NULL, TRUE,
    'A mechanic whose last N offers timed out goes away (reason offers_timed_out; null: never).'
),
(
    'presence_heartbeat_write_seconds', 'integer', '30', 1, 3600, NULL, FALSE,
    'A heartbeat writes last_seen_at at most once per this many seconds per mechanic.'
)
ON CONFLICT (name) DO NOTHING;

ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS dispatch_mode text;
ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS dispatch_wave smallint;
ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS dispatch_next_at timestamptz;
ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS targeted_until timestamptz;
COMMENT ON COLUMN session_requests.dispatch_mode IS
'staggered or round_robin: offered in waves of targeted offers; NULL: broadcast (the offer rule alone).';
COMMENT ON COLUMN session_requests.dispatch_wave IS 'The last wave of targeted offers made (0: the first).';
COMMENT ON COLUMN session_requests.dispatch_next_at IS
'When the next wave is due (earlier when every live offer ended); NULL: no more waves.';
COMMENT ON COLUMN session_requests.targeted_until IS
'Until then only mechanics holding a live offer are offered the request; NULL or past: the offer rule alone.';

ALTER TABLE offers ADD COLUMN IF NOT EXISTS stage text;
COMMENT ON COLUMN offers.stage IS
'window (inside a hybrid exclusive window), wave (a targeted wave), open (the open stage: written when the mechanic acts).';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'offers_stage_check') THEN
        ALTER TABLE offers ADD CONSTRAINT offers_stage_check
        CHECK (stage IN ('window', 'wave', 'open')) NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'session_requests_dispatch_mode_check') THEN
        ALTER TABLE session_requests ADD CONSTRAINT session_requests_dispatch_mode_check
        CHECK (dispatch_mode IN ('staggered', 'round_robin')) NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'routing_outbox_event_type_offered_check') THEN
        ALTER TABLE routing_outbox ADD CONSTRAINT routing_outbox_event_type_offered_check
        CHECK (event_type IN ('created', 'escalated', 'accepted', 'expired', 'cancelled', 'offered')) NOT VALID;
    END IF;
END
$$;
-- The wider check above keeps every guarantee of the old one but 'offered', which the engine writes now.
-- squawk-ignore ban-drop-constraint
ALTER TABLE routing_outbox DROP CONSTRAINT IF EXISTS routing_outbox_event_type_check;
COMMENT ON COLUMN routing_outbox.event_type IS 'created, escalated, accepted, expired, cancelled or offered.';

ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS last_seen_at timestamptz;
ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS online_at timestamptz;
ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS away_reason text;
ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS away_at timestamptz;
COMMENT ON COLUMN mechanics.last_seen_at IS
'The last heartbeat of the dashboard (written at most every presence_heartbeat_write_seconds); NULL: never seen.';
COMMENT ON COLUMN mechanics.online_at IS 'When the mechanic last went online from the dashboard.';
COMMENT ON COLUMN mechanics.away_reason IS
'Why the engine took the mechanic offline: offers_timed_out or no_heartbeat; NULL when they went offline themselves.';
COMMENT ON COLUMN mechanics.away_at IS 'When the engine took the mechanic offline (with away_reason).';

CREATE TABLE IF NOT EXISTS offer_wait_thresholds (
    seconds integer PRIMARY KEY CHECK (seconds > 0 AND seconds <= 86400)
);
COMMENT ON TABLE offer_wait_thresholds IS
'The time-to-accept thresholds of analytics.offer_statistics (accepted within each, like split_by_wait_time).';
COMMENT ON COLUMN offer_wait_thresholds.seconds IS 'A threshold in seconds from the request''s creation.';
INSERT INTO offer_wait_thresholds (seconds) VALUES (15), (30), (60), (120), (300) ON CONFLICT DO NOTHING;
REVOKE ALL ON offer_wait_thresholds FROM PUBLIC;
