-- 0062: routing notifications are sent by a relay after commit, not inside the routing
-- transaction. A NOTIFY makes its transaction take a database-wide lock at commit and
-- hold it through the WAL flush, so every fulfillment that notified committed one after
-- the other: on durable settings (fsync, synchronous_commit on) fulfill_checkout ran at
-- the rate of sequential flushes (153 tps where the same transaction without NOTIFY ran
-- 851 tps and pgbench tpcb-like 1,310, measured by make bench). The outbox row stays in
-- the transaction (written exactly when the change commits); routing_outbox_relay(), run
-- by the worker every 100 ms, sends the committed rows with pg_notify in one transaction
-- per batch and marks them notified.
-- Rows written before this migration were sent by the old trigger: marked notified.

DROP TRIGGER IF EXISTS routing_outbox_notify ON routing_outbox;
DROP FUNCTION IF EXISTS routing_outbox_notify();

ALTER TABLE routing_outbox ADD COLUMN notified_at timestamptz;
UPDATE routing_outbox SET notified_at = created_at;
CREATE INDEX routing_outbox_unnotified_idx ON routing_outbox (id) WHERE notified_at IS NULL;
COMMENT ON COLUMN routing_outbox.notified_at IS
'When routing_outbox_relay() sent the row with pg_notify (after the routing change committed); NULL: not yet sent.';
