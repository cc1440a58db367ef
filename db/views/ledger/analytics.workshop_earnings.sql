-- workshop_earnings: what each payee (a workshop, or an independent mechanic) earned per
-- period, for payouts: the sums of session_ledger per payee, currency and UTC week
-- (ISO, from Monday) or calendar month of the session's creation. Nothing moves money yet.
CREATE OR REPLACE VIEW analytics.workshop_earnings AS
SELECT
    l.payee_type,
    l.payee_id,
    coalesce(o.name, m.name) AS payee_name,
    g.period_grain,
    g.period_start,
    l.currency,
    count(*) AS sessions,
    sum(l.gross_minor) AS gross_minor,
    sum(l.refunded_minor) AS refunded_minor,
    sum(l.net_minor) AS net_minor,
    sum(l.platform_fee_minor) AS platform_fee_minor,
    sum(l.payee_share_minor) AS payee_share_minor
FROM analytics.session_ledger AS l
CROSS JOIN
    LATERAL (
        VALUES
        ('week', date_trunc('week', l.created_at AT TIME ZONE 'UTC')::date),
        ('month', date_trunc('month', l.created_at AT TIME ZONE 'UTC')::date)
    ) AS g (period_grain, period_start)
LEFT JOIN organizations AS o ON l.workshop_id = o.id
LEFT JOIN mechanics AS m ON l.mechanic_id = m.id AND l.workshop_id IS NULL
GROUP BY l.payee_type, l.payee_id, coalesce(o.name, m.name), g.period_grain, g.period_start, l.currency;

COMMENT ON VIEW analytics.workshop_earnings IS
'Per payee (workshop or independent mechanic), period (UTC week or month of the sessions'' creation) and currency: '
'the sums of session_ledger, for payouts. Prepared only; no money moves yet.';
COMMENT ON COLUMN analytics.workshop_earnings.payee_type IS 'workshop or independent_mechanic.';
COMMENT ON COLUMN analytics.workshop_earnings.payee_id IS 'The workshop id, or the mechanic id when independent.';
COMMENT ON COLUMN analytics.workshop_earnings.payee_name IS 'The workshop''s or the mechanic''s current name.';
COMMENT ON COLUMN analytics.workshop_earnings.period_grain IS 'week or month; filter one grain.';
COMMENT ON COLUMN analytics.workshop_earnings.period_start IS 'First day of the period, UTC (Monday of the ISO week, or the 1st).';
COMMENT ON COLUMN analytics.workshop_earnings.currency IS 'Currency of the amounts, lower-case ISO 4217 (one row per currency).';
COMMENT ON COLUMN analytics.workshop_earnings.sessions IS 'Served sessions created in the period.';
COMMENT ON COLUMN analytics.workshop_earnings.gross_minor IS 'Sum of session_ledger.gross_minor.';
COMMENT ON COLUMN analytics.workshop_earnings.refunded_minor IS 'Sum of session_ledger.refunded_minor.';
COMMENT ON COLUMN analytics.workshop_earnings.net_minor IS 'Sum of session_ledger.net_minor.';
COMMENT ON COLUMN analytics.workshop_earnings.platform_fee_minor IS 'Sum of session_ledger.platform_fee_minor.';
COMMENT ON COLUMN analytics.workshop_earnings.payee_share_minor IS 'Sum of session_ledger.payee_share_minor: the payout owed.';

GRANT SELECT ON analytics.workshop_earnings TO analytics;
