-- session_ledger: the money of each served session (a mechanic accepted it), prepared for
-- payouts; nothing moves money yet. Gross is what the customer paid; refunded what
-- Stripe refunded of it (refunds succeeded); net = gross - refunded; the platform fee
-- is net times the rate in effect when the session was created (payout_rates, rounded
-- half away from zero to the minor unit), and the payee's share the rest, so
-- platform_fee_minor + payee_share_minor = net_minor exactly. The payee is the serving
-- workshop, or the mechanic when independent.
CREATE OR REPLACE VIEW analytics.session_ledger AS
SELECT
    s.id AS session_id,
    s.created_at,
    s.status AS session_status,
    s.mechanic_id,
    s.workshop_id,
    CASE WHEN s.workshop_id IS NULL THEN 'independent_mechanic' ELSE 'workshop' END AS payee_type,
    coalesce(s.workshop_id, s.mechanic_id) AS payee_id,
    s.currency,
    s.amount_total_minor AS gross_minor,
    coalesce(rf.refunded_minor, 0) AS refunded_minor,
    s.amount_total_minor - coalesce(rf.refunded_minor, 0) AS net_minor,
    rate.fee_bps AS platform_fee_bps,
    round((s.amount_total_minor - coalesce(rf.refunded_minor, 0)) * rate.fee_bps / 10000.0)::integer
        AS platform_fee_minor,
    s.amount_total_minor - coalesce(rf.refunded_minor, 0)
    - round((s.amount_total_minor - coalesce(rf.refunded_minor, 0)) * rate.fee_bps / 10000.0)::integer
        AS payee_share_minor
FROM sessions AS s
LEFT JOIN LATERAL (
    SELECT sum(r.amount_minor)::integer AS refunded_minor
    FROM refunds AS r
    WHERE r.session_id = s.id AND r.status = 'succeeded'
) AS rf ON TRUE
CROSS JOIN
    LATERAL (
        SELECT
            CASE
                WHEN s.workshop_id IS NULL THEN pr.independent_platform_fee_bps
                ELSE pr.workshop_platform_fee_bps
            END AS fee_bps
        FROM payout_rates AS pr
        WHERE pr.effective_from <= s.created_at
        ORDER BY pr.effective_from DESC
        LIMIT 1
    ) AS rate
WHERE s.mechanic_id IS NOT NULL;

COMMENT ON VIEW analytics.session_ledger IS
'Per served session: gross, refunded, net, platform fee (payout_rates in effect at creation) and the serving '
'workshop''s or independent mechanic''s share. Prepared for payouts; no money moves yet.';
COMMENT ON COLUMN analytics.session_ledger.session_id IS 'The session (sessions.id).';
COMMENT ON COLUMN analytics.session_ledger.created_at IS 'When the session was created (paid); dates the rates and the period.';
COMMENT ON COLUMN analytics.session_ledger.session_status IS 'sessions.status now (waiting, live, completed, cancelled, refunded).';
COMMENT ON COLUMN analytics.session_ledger.mechanic_id IS 'The mechanic who served it.';
COMMENT ON COLUMN analytics.session_ledger.workshop_id IS 'The serving workshop; NULL for an independent mechanic.';
COMMENT ON COLUMN analytics.session_ledger.payee_type IS 'workshop or independent_mechanic: who is owed the share.';
COMMENT ON COLUMN analytics.session_ledger.payee_id IS 'The workshop id, or the mechanic id when independent.';
COMMENT ON COLUMN analytics.session_ledger.currency IS 'Currency of every amount of the row, lower-case ISO 4217.';
COMMENT ON COLUMN analytics.session_ledger.gross_minor IS 'What the customer paid, minor units.';
COMMENT ON COLUMN analytics.session_ledger.refunded_minor IS 'What Stripe refunded of it (refunds succeeded), minor units.';
COMMENT ON COLUMN analytics.session_ledger.net_minor IS 'gross_minor - refunded_minor.';
COMMENT ON COLUMN analytics.session_ledger.platform_fee_bps IS 'The platform fee rate applied, basis points (payout_rates).';
COMMENT ON COLUMN analytics.session_ledger.platform_fee_minor IS
'net_minor * platform_fee_bps / 10000, rounded half away from zero to the minor unit.';
COMMENT ON COLUMN analytics.session_ledger.payee_share_minor IS
'net_minor - platform_fee_minor: what the payee is owed for the session.';

GRANT SELECT ON analytics.session_ledger TO analytics;
