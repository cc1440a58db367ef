-- 0051: the platform's fee on served sessions, by date of effect, for the ledger views
-- (session_ledger, workshop_earnings). Nothing moves money yet: these rates only say
-- what the serving workshop or independent mechanic would be owed.

CREATE TABLE payout_rates (
    effective_from timestamptz PRIMARY KEY,
    workshop_platform_fee_bps integer NOT NULL CHECK (workshop_platform_fee_bps BETWEEN 0 AND 10000),
    independent_platform_fee_bps integer NOT NULL CHECK (independent_platform_fee_bps BETWEEN 0 AND 10000),
    note text,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO payout_rates (effective_from, workshop_platform_fee_bps, independent_platform_fee_bps, note)
VALUES ('-infinity', 2000, 2500, 'launch rates: 20 % of sessions served by a workshop, 25 % by an independent');

COMMENT ON TABLE payout_rates IS
'Platform fee rates by date of effect: a session uses the row with the latest effective_from at or before its '
'created_at, so a new rate never rewrites past sessions. Add a row to change the rates.';
COMMENT ON COLUMN payout_rates.effective_from IS 'From when the rates apply (sessions created at or after it).';
COMMENT ON COLUMN payout_rates.workshop_platform_fee_bps IS
'Platform fee on sessions served by a workshop''s mechanic, in basis points (2000 = 20 %) of the net amount.';
COMMENT ON COLUMN payout_rates.independent_platform_fee_bps IS
'Platform fee on sessions served by an independent mechanic, in basis points of the net amount.';
COMMENT ON COLUMN payout_rates.note IS 'Why the rates changed.';
COMMENT ON COLUMN payout_rates.created_at IS 'When the row was written.';
