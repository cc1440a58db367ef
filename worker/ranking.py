"""The eligibility and ranking jobs: working hours at their boundaries, offers' answers into the
reliability rollups, and rank scores that only time moves."""

from __future__ import annotations

import psycopg


def hours(conn: psycopg.Connection) -> str | None:
    """ssr_private.hours_refresh() once: flips mechanics.in_hours where the clock crossed a boundary,
    so the maintained counts follow (the decisions check the hours at the instant themselves)."""
    (changed,) = conn.execute("SELECT ssr_private.hours_refresh()").fetchone()
    return f"hours: {changed} mechanic(s) changed" if changed else None


def ranking_changes(conn: psycopg.Connection) -> str | None:
    """ssr_private.ranking_apply_offer_changes() once: the answers of offers queued since the last
    run (accepts, declines, timeouts) into the reliability rollups, their mechanics rescored."""
    (applied,) = conn.execute("SELECT ssr_private.ranking_apply_offer_changes()").fetchone()
    return f"ranking_changes: {applied} answer(s) applied" if applied else None


def ranking(conn: psycopg.Connection) -> str | None:
    """ssr_private.ranking_refresh() once: rescores the mechanics with the oldest scores; then
    ssr_private.directory_prior_refresh(): the directory's prior follows the platform's mean."""
    (rescored,) = conn.execute("SELECT ssr_private.ranking_refresh()").fetchone()
    (workshops,) = conn.execute("SELECT ssr_private.directory_prior_refresh()").fetchone()
    done = [f"{rescored} mechanic(s) rescored"] * bool(rescored) + [f"{workshops} workshop(s) rescored"] * bool(workshops)
    return "ranking: " + ", ".join(done) if done else None
