-- ssr:no-transaction
-- 0141: the indexes of the dispatcher, built CONCURRENTLY (no writer blocked), and the
-- constraints 0140 added NOT VALID, validated (SHARE UPDATE EXCLUSIVE: no reader or writer
-- blocked). Each statement commits on its own; running the file again changes nothing.

-- A mechanic's live offers (get_mechanic_offers' targeted set, the concurrent-offer cap).
CREATE INDEX CONCURRENTLY IF NOT EXISTS offers_live_mechanic_idx
ON offers (mechanic_id) WHERE outcome IS NULL;
-- The statistics by UTC day (analytics.offer_statistics: a filter on its day reads these block ranges).
-- BRIN: offers are appended in time order, and every answer or timeout of an offer rewrites its row
-- (outcome is in the partial indexes' predicates: never a HOT update), which a B-tree would pay for
-- with one more entry; a BRIN range summary rarely changes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS offers_day_brin ON offers USING brin (((offered_at AT TIME ZONE 'UTC')::date));
-- The sweep's waves: pending requests distributed in waves, by when the next wave is due.
CREATE INDEX CONCURRENTLY IF NOT EXISTS session_requests_dispatch_next_idx
ON session_requests (dispatch_next_at) WHERE status = 'pending' AND dispatch_next_at IS NOT NULL;
-- The sweep's presence grace: available mechanics that send heartbeats, by the last one.
CREATE INDEX CONCURRENTLY IF NOT EXISTS mechanics_last_seen_idx
ON mechanics (last_seen_at) WHERE is_available AND last_seen_at IS NOT NULL;

ALTER TABLE offers VALIDATE CONSTRAINT offers_stage_check;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_dispatch_mode_check;
ALTER TABLE routing_outbox VALIDATE CONSTRAINT routing_outbox_event_type_offered_check;
