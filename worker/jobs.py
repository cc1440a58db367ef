"""The periodic jobs of the worker (worker/supervisor.py runs them), each a plain function of an
autocommit connection that returns a short description when it changed something:
`sweep` (ssr_private.sweep_session_requests(): escalate and expire requests) and `refresh_analytics` (apply
the queued changes to the rollups the BI views read) every 5 s, `offers` (ssr_private.offer_sweep(): time out
live offers, open the next waves, take away mechanics who time out or stop sending heartbeats) every 1 s,
`relay` (ssr_private.routing_outbox_relay():
send the committed routing notifications with pg_notify) every 0.1 s. The functions are safe to
run concurrently, so several workers may run at once. This module imports nothing of the worker
(the supervisor imports it, never the other way round)."""

from __future__ import annotations

import psycopg


def sweep_counts(conn: psycopg.Connection) -> tuple[int, int]:
    """ssr_private.sweep_session_requests() once: (escalated, expired)."""
    escalated, expired = conn.execute("SELECT * FROM ssr_private.sweep_session_requests()").fetchone()
    return escalated, expired


def sweep(conn: psycopg.Connection) -> str | None:
    """The job: one call; a short description when it changed something."""
    escalated, expired = sweep_counts(conn)
    return f"escalated {escalated}, expired {expired}" if escalated or expired else None


def offers(conn: psycopg.Connection) -> str | None:
    """The job: one pass of the dispatcher's sweep; a short description when it changed something."""
    timed_out, waves, opened, away = conn.execute("SELECT * FROM ssr_private.offer_sweep()", prepare=True).fetchone()
    if not (timed_out or waves or opened or away):
        return None
    return f"timed out {timed_out} offers, {waves} waves, opened {opened}, {away} mechanics away"


def refresh_analytics_count(conn: psycopg.Connection) -> int:
    """Apply every queued analytics change (batches of 100,000); how many were applied."""
    applied = 0
    while True:
        ran, changes, _workshop_days, _routing_days, more = conn.execute(
            "SELECT * FROM ssr_private.refresh_analytics()").fetchone()
        applied += changes
        if not (ran and more):
            return applied


def refresh_analytics(conn: psycopg.Connection) -> str | None:
    """The job: apply every queued analytics change; a short description when there were some."""
    applied = refresh_analytics_count(conn)
    return f"applied {applied} analytics changes" if applied else None


def refresh_experiment_results_count(conn: psycopg.Connection) -> tuple[int, int]:
    """Apply every queued experiment change to the per-unit rollup, then the guardrails (batches of
    100,000); (changes applied, arms stopped by a guardrail)."""
    applied = stopped = 0
    while True:
        ran, changes, _units, arms_stopped, more = conn.execute(
            "SELECT * FROM ssr_private.refresh_experiment_results()").fetchone()
        applied += changes
        stopped += arms_stopped
        if not (ran and more):
            return applied, stopped


def refresh_experiment_results(conn: psycopg.Connection) -> str | None:
    """The job: keep the experiment results fresh and apply the guardrails; a short description
    when something changed."""
    applied, stopped = refresh_experiment_results_count(conn)
    if not (applied or stopped):
        return None
    return f"applied {applied} experiment changes" + (f", {stopped} arm(s) stopped by a guardrail" if stopped else "")


def relay_count(conn: psycopg.Connection) -> int:
    """Send every committed routing notification not sent yet (batches of 1000); how many."""
    sent = 0
    while True:
        n = conn.execute("SELECT ssr_private.routing_outbox_relay()", prepare=True).fetchone()[0]
        sent += n
        if n < 1000:
            return sent


def relay(conn: psycopg.Connection) -> str | None:
    """The job: send every committed routing notification not sent yet. The worker is the only
    caller: the app's live hubs only LISTEN (app/live.py)."""
    sent = relay_count(conn)
    return f"relayed {sent} notifications" if sent else None
