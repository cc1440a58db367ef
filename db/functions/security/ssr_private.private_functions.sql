-- ssr_private.private_functions: the allowlist of the functions of schema ssr_private that a
-- role other than the owner may execute, with the roles, in one place (the twin of
-- ssr_private.api_functions() for schema public). ssr_private.apply_privileges() grants
-- exactly this and revokes everything else. Absent functions (the optional PL/Python
-- layer) are skipped.
--   ssr_worker  the worker's jobs (worker/): each SECURITY DEFINER with a pinned search_path,
--               so the role needs no table privilege at all;
--   mechanic    what its row-level policies call: the verified identity and the offer rule;
--   analytics   the formatter of analytics.routing_explanations (immutable, reads nothing).
-- No errors.
CREATE OR REPLACE FUNCTION ssr_private.private_functions()
RETURNS TABLE (signature text, grantees text[], purpose text)
LANGUAGE sql
IMMUTABLE
AS $$
SELECT t.signature, t.grantees, t.purpose
FROM (
    VALUES
    ('sweep_session_requests(timestamptz)', ARRAY['ssr_worker'], 'job sweep: escalate and expire requests'),
    (
        'offer_sweep(timestamptz,integer)', ARRAY['ssr_worker'],
        'job offers: time out offers, open the next waves, presence auto-away'
    ),
    ('refresh_analytics(integer)', ARRAY['ssr_worker'], 'job refresh_analytics: the BI rollups'),
    ('routing_outbox_relay(integer)', ARRAY['ssr_worker'], 'job relay: send committed notifications'),
    ('routing_outbox_prune(interval)', ARRAY['ssr_worker'], 'outbox rows no consumer needs (cron or a DBA)'),
    ('refund_claim_due()', ARRAY['ssr_worker'], 'job refunds: claim a due refund'),
    (
        'refund_record_attempt(uuid,text,text,text,text,boolean)', ARRAY['ssr_worker'],
        'job refunds: record Stripe''s answer'
    ),
    ('refund_apply_stripe_status(uuid,text,text)', ARRAY['ssr_worker'], 'jobs refunds, reconcile: a refund''s status'),
    ('refund_stale_pending(interval,integer)', ARRAY['ssr_worker'], 'job reconcile: refunds Stripe left pending'),
    ('reconciliation_run_start(timestamptz)', ARRAY['ssr_worker'], 'job reconcile: open a run'),
    (
        'reconcile_checkout_session(bigint,text,text,text,integer,text)', ARRAY['ssr_worker'],
        'job reconcile: one Checkout Session as Stripe''s API lists it'
    ),
    ('reconciliation_run_finish(bigint,text)', ARRAY['ssr_worker'], 'job reconcile: close a run'),
    ('hours_refresh(timestamptz,uuid,uuid)', ARRAY['ssr_worker'], 'job hours: in_hours at the boundaries'),
    ('ranking_refresh(integer,interval)', ARRAY['ssr_worker'], 'job ranking: rescore the oldest scores'),
    ('ranking_apply_offer_changes(integer)', ARRAY['ssr_worker'], 'job ranking_changes: offers'' answers into the rollups'),
    ('directory_prior_refresh(boolean)', ARRAY['ssr_worker'], 'job ranking: the directory''s prior'),
    ('current_mechanic_id()', ARRAY['mechanic'], 'the identity of the mechanic row policies'),
    (
        'hours_open_at(uuid,uuid,timestamptz)', ARRAY['mechanic'],
        'the working-hours term of the session_requests row policy'
    ),
    ('mechanic_skills(uuid)', ARRAY['mechanic'], 'the skills term of routing_offered'),
    ('offer_held_live(uuid,uuid,timestamptz)', ARRAY['mechanic'], 'the waves term of the mechanic row policy'),
    (
        'routing_offered(public.session_requests,uuid,uuid,timestamptz)', ARRAY['mechanic'],
        'the offer rule of the session_requests row policy'
    ),
    (
        'routing_offer_score(text,uuid,timestamptz,uuid,timestamptz)', ARRAY['mechanic'],
        'called by routing_offered'
    ),
    (
        'routing_event_narrative(text,uuid,uuid,text,text,jsonb)', ARRAY['analytics'],
        'the formatter of analytics.routing_explanations (optional PL/Python layer)'
    ),
    (
        'refresh_experiment_results(integer)', ARRAY['ssr_worker'],
        'job experiment_results: the experiment rollup and its guardrails'
    ),
    (
        'experiment_hist_percentile(double precision[],integer[],double precision)', ARRAY['analytics'],
        'percentiles of analytics.experiment_results and experiment_windows'
    ),
    (
        'experiment_analyse_units(text,text,jsonb,double precision,double precision)', ARRAY['analytics'],
        'the analysis of analytics.experiment_analysis; reads nothing (optional PL/Python layer)'
    ),
    (
        'experiment_stats(text,jsonb)', ARRAY['analytics'],
        'the statistics experiment_analyse_units loads; reads nothing (optional PL/Python layer)'
    )
) AS t (signature, grantees, purpose)
$$;

COMMENT ON FUNCTION ssr_private.private_functions() IS
'Allowlist of the functions in schema ssr_private that roles other than the owner execute, with the roles.';
