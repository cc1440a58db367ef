"""The eligibility and ranking jobs: working hours at their boundaries, and rank scores that only time moves."""

from __future__ import annotations

import psycopg


def hours(conn: psycopg.Connection) -> str | None:
    """ssr_private.hours_refresh() once: flips mechanics.in_hours where the clock crossed a boundary,
    so the maintained counts follow (the decisions check the hours at the instant themselves)."""
    (changed,) = conn.execute("SELECT ssr_private.hours_refresh()").fetchone()
    return f"hours: {changed} mechanic(s) changed" if changed else None


def ranking(conn: psycopg.Connection) -> str | None:
    """ssr_private.ranking_refresh() once: rescores the mechanics with the oldest scores."""
    (rescored,) = conn.execute("SELECT ssr_private.ranking_refresh()").fetchone()
    return f"ranking: {rescored} rescored" if rescored else None
