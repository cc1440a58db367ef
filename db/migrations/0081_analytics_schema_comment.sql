-- 0081: what schema analytics holds now (its comment of 0035 still named the materialized
-- copies dropped by 0061). Inputs: none. Errors: none.
COMMENT ON SCHEMA analytics IS
'The read-only views for BI and payouts, readable by the role analytics (which finds them through its default '
'search_path, "$user", public): workshop_session_analytics and routing_effectiveness, read from the rollups '
'that ssr_private.refresh_analytics() keeps; session_ledger and workshop_earnings, the money of the served '
'sessions per session and per payee and period (prepared for payouts; no money moves).';
