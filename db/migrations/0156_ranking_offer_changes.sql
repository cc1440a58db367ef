-- 0156: offers' answers reach the ranking through a queue. An accept, a decline and the timeout
-- sweep each append one row here (an insert: no row any other transaction holds), and the
-- worker's ranking_changes job applies the queue to the reliability rollups and rescores the
-- mechanics it names (ssr_private.ranking_apply_offer_changes, every 5 s). Before, the offer's
-- own transaction updated the mechanic's rollup rows and rescored them: an accept waited for the
-- sweep and the sweep for an accept whenever both touched one mechanic, and each paid the
-- rescoring. Owner only. Online: a new, empty table.

CREATE TABLE IF NOT EXISTS ssr_private.ranking_offer_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mechanic_id uuid NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('accepted', 'declined', 'timed_out')),
    day date NOT NULL,
    bucket double precision,
    queued_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE ssr_private.ranking_offer_changes IS
'Offers'' answers not yet in the ranking''s rollups (ssr_private.ranking_apply_offer_changes applies and deletes them).';
COMMENT ON COLUMN ssr_private.ranking_offer_changes.mechanic_id IS 'The mechanic who answered (or let it time out).';
COMMENT ON COLUMN ssr_private.ranking_offer_changes.outcome IS 'accepted, declined or timed_out.';
COMMENT ON COLUMN ssr_private.ranking_offer_changes.day IS 'The UTC day of the outcome.';
COMMENT ON COLUMN ssr_private.ranking_offer_changes.bucket IS
'The response time''s histogram bucket (ssr_private.analytics_bucket of the seconds to the answer; a timeout: its whole wait).';
COMMENT ON COLUMN ssr_private.ranking_offer_changes.queued_at IS 'When it was queued (the ranking''s staleness).';

REVOKE ALL ON ssr_private.ranking_offer_changes FROM PUBLIC;
