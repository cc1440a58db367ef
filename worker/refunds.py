#!/usr/bin/env python3
"""Money jobs of the worker: make the refunds the database owes, and reconcile Stripe's
Checkout Sessions with our purchases. Plain functions, run by the worker (worker/supervisor.py:
jobs `refunds` every 5 s and `reconcile` every 10 minutes when STRIPE_SECRET_KEY is set)
and by this CLI:

    python -m worker.refunds process [--limit 50]     # make the due refunds at Stripe
    python -m worker.refunds reconcile [--hours 48]   # fulfil paid sessions whose webhook never came

WORKER_DATABASE_URL (the worker's login ssr_worker; unset: DATABASE_URL, e.g. a DBA's own login),
STRIPE_SECRET_KEY and (optionally) STRIPE_API_BASE and STRIPE_TIMEOUT come from the environment;
the Stripe client is the app's (app/payments.py: timeouts, retries, proxy).

process_due_refunds: each due refund is claimed in its own transaction
(refund_claim_due: FOR UPDATE SKIP LOCKED, so concurrent workers never share one),
Stripe's Refunds API is called with the refund row's id as the idempotency key, and the
answer is recorded (refund_record_attempt) before the commit. A worker that dies between
the call and the commit leaves the row due; the next claim sends the same request with the
same key and Stripe answers with the refund it already made: never two refunds.
reconcile: lists the Checkout Sessions created in the last N hours (paginated), passes each
paid one through the webhook's idempotent procedure (reconcile_checkout_session), retries
the sessions a webhook named but Stripe answered 404 for, and records the run; then
re-fetches the refunds Stripe left pending for an hour (their webhook may be lost).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator

import psycopg
import stripe
from psycopg.rows import dict_row

from app import payments

log = logging.getLogger("ssr.refunds")

# Stripe answers that will not change by retrying the same request: the refund fails (an operator looks).
PERMANENT = (stripe.IdempotencyError,)


@contextlib.contextmanager
def _connection(db: str | psycopg.Connection) -> Iterator[psycopg.Connection]:
    """`db` is a database URL (a connection of our own) or an autocommit connection (the worker's)."""
    if isinstance(db, psycopg.Connection):
        if not db.autocommit:
            raise ValueError("the money jobs need an autocommit connection (they open their own transactions)")
        yield db
        return
    with psycopg.connect(db, autocommit=True, application_name="ssr-money-jobs") as conn:
        yield conn


def _rows(conn: psycopg.Connection, sql: str, params: tuple = ()) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()


def _row(conn: psycopg.Connection, sql: str, params: tuple = ()) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute(sql, params).fetchone()


def _payment_intent_of(stripe_client: stripe.StripeClient, cs_id: str) -> str | None:
    pi = payments.retrieve_checkout_session(stripe_client, cs_id).get("payment_intent")
    return pi if isinstance(pi, str) or pi is None else pi["id"]


def _adopt_existing(stripe_client: stripe.StripeClient, pi: str, refund_id: str):
    """A refund of ours already at Stripe (metadata.refund_id), e.g. made by a worker that
    died before recording it, longer ago than Stripe keeps idempotency keys."""
    for r in stripe_client.v1.refunds.list(params={"payment_intent": pi, "limit": 100}).auto_paging_iter():
        if (r.metadata or {}).get("refund_id") == refund_id:
            return r
    return None


def _make_refund(conn: psycopg.Connection, stripe_client: stripe.StripeClient, row: dict) -> str:
    rid = str(row["id"])
    pi = row["stripe_payment_intent_id"]
    try:
        if pi is None:
            pi = _payment_intent_of(stripe_client, row["stripe_checkout_session_id"])
            if pi is None:
                conn.execute("SELECT ssr_private.refund_record_attempt(%s, NULL, NULL, NULL, %s, FALSE)",
                             (row["id"], "the Checkout Session has no payment intent: nothing to refund"))
                log.error("refund %s: Checkout Session %s has no payment intent", rid, row["stripe_checkout_session_id"])
                return "failed"
        params = {
            "payment_intent": pi,
            "amount": row["amount_minor"],
            "reason": "requested_by_customer",
            "metadata": {"refund_id": rid, "purchase_id": str(row["purchase_id"]), "reason": row["reason"]},
        }
        refund = stripe_client.v1.refunds.create(params=params, options={"idempotency_key": rid})
    except stripe.InvalidRequestError as exc:
        existing = _adopt_existing(stripe_client, pi, rid) if pi and exc.http_status == 400 else None
        if existing is not None:
            refund = existing
        else:
            permanent = exc.http_status == 400
            conn.execute("SELECT ssr_private.refund_record_attempt(%s, %s, NULL, NULL, %s, %s)",
                         (row["id"], pi, f"{exc.http_status}: {exc.user_message or exc}", not permanent))
            log.error("refund %s of purchase %s: Stripe refused it (%s): %s", rid, row["purchase_id"],
                      exc.http_status, exc.user_message or exc)
            return "failed" if permanent else "retry"
    except PERMANENT as exc:
        conn.execute("SELECT ssr_private.refund_record_attempt(%s, %s, NULL, NULL, %s, FALSE)", (row["id"], pi, str(exc)))
        log.error("refund %s: %s", rid, exc)
        return "failed"
    except stripe.StripeError as exc:  # network, 401 (a key problem is not the refund's), 429, 5xx: later
        conn.execute("SELECT ssr_private.refund_record_attempt(%s, %s, NULL, NULL, %s, TRUE)",
                     (row["id"], pi, f"{exc.http_status}: {exc.user_message or exc}"))
        log.warning("refund %s: will retry: %s", rid, exc)
        return "retry"
    done = _row(conn, "SELECT status FROM ssr_private.refund_record_attempt(%s, %s, %s, %s)",
                (row["id"], pi, refund.id, refund.status))
    log.info("refund %s of purchase %s: Stripe refund %s %s", rid, row["purchase_id"], refund.id, refund.status)
    return done["status"]


def process_due_refunds(db: str | psycopg.Connection, stripe_client: stripe.StripeClient,
                        limit: int = 50) -> dict[str, int]:
    """Make up to `limit` due refunds at Stripe; returns counts by result
    (succeeded, pending: Stripe still processing, failed, retry). `db`: a URL or an autocommit
    connection."""
    counts = {"succeeded": 0, "pending": 0, "failed": 0, "retry": 0}
    with _connection(db) as conn:
        for _ in range(limit):
            try:
                with conn.transaction():
                    row = _row(conn, "SELECT * FROM ssr_private.refund_claim_due()")
                    if row is None:
                        break
                    counts[_make_refund(conn, stripe_client, row)] += 1
            except psycopg.OperationalError:
                raise
            except psycopg.Error:  # rolled back, the refund stays due: stop this round, say why
                log.exception("refund worker: recording a refund failed; it stays due")
                break
    return counts


def refresh_pending_refunds(db: str | psycopg.Connection, stripe_client: stripe.StripeClient,
                            older_than_minutes: float = 60) -> int:
    """Refunds Stripe accepted but left pending, unchanged for a while (their webhook may be
    lost): re-fetch each and record its status. Returns how many changed."""
    changed = 0
    with _connection(db) as conn:
        rows = _rows(conn, "SELECT * FROM ssr_private.refund_stale_pending(make_interval(secs => %s), 500)",
                     (older_than_minutes * 60,))
        for row in rows:
            try:
                refund = stripe_client.v1.refunds.retrieve(row["stripe_refund_id"])
            except stripe.StripeError as exc:
                log.warning("could not re-fetch refund %s: %s", row["stripe_refund_id"], exc)
                continue
            conn.execute("SELECT ssr_private.refund_apply_stripe_status(%s, %s, %s)", (row["id"], refund.id, refund.status))
            if refund.status != row["stripe_status"]:
                changed += 1
                log.info("refund %s is %s at Stripe", row["id"], refund.status)
    return changed


def _reconcile_one(conn: psycopg.Connection, run_id: int, s: dict) -> str:
    """One Checkout Session as a dict (as retrieve_checkout_session gives it, or a listed one's to_dict())."""
    outcome = _row(
        conn, "SELECT ssr_private.reconcile_checkout_session(%s, %s, %s, %s, %s, %s) AS outcome",
        (run_id, s["id"], s.get("client_reference_id"), s.get("payment_status"), s.get("amount_total"),
         s.get("currency")),
    )["outcome"]
    if outcome == "fulfilled":
        log.warning("reconciliation fulfilled %s: paid, but its webhook never arrived", s["id"])
    elif outcome not in ("already_fulfilled", "unknown_purchase", "awaiting_payment"):
        log.error("reconciliation: checkout session %s needs attention: %s", s["id"], outcome)
    return outcome


def reconcile(db: str | psycopg.Connection, stripe_client: stripe.StripeClient, hours: float = 48,
              page_size: int = 100) -> dict:
    """Fulfil, through the webhook's procedure, every paid purchase of ours among the Checkout
    Sessions created in the last `hours` (and the unresolved ones); returns the run's row.
    `db`: a URL or an autocommit connection."""
    since = int(time.time() - hours * 3600)
    with _connection(db) as conn:
        start = _row(conn, "SELECT * FROM ssr_private.reconciliation_run_start(to_timestamp(%s))", (since,))
        run_id, seen, error = start["run_id"], set(), None
        try:
            listed = stripe_client.v1.checkout.sessions.list(
                params={"created": {"gte": since}, "status": "complete", "limit": page_size})
            for s in listed.auto_paging_iter():
                seen.add(s.id)
                _reconcile_one(conn, run_id, s.to_dict())
            for cs_id in start["unresolved"]:
                if cs_id in seen:
                    continue
                try:
                    s = payments.retrieve_checkout_session(stripe_client, cs_id)
                except stripe.InvalidRequestError as exc:
                    if exc.http_status != 404:
                        raise
                    conn.execute("SELECT 1 FROM note_unresolved_checkout_session(%s, NULL, %s, %s)",
                                 (cs_id, str(exc), run_id))
                    log.error("reconciliation: checkout session %s is still not retrievable with this key", cs_id)
                    continue
                _reconcile_one(conn, run_id, s)
        except stripe.StripeError as exc:
            error = f"{exc.http_status}: {exc.user_message or exc}"
            log.error("reconciliation run %s stopped: %s", run_id, error)
        if error is None:
            refresh_pending_refunds(conn, stripe_client)
        return _row(conn, "SELECT * FROM ssr_private.reconciliation_run_finish(%s, %s)", (run_id, error))


def refunds_job(conn: psycopg.Connection, stripe_client: stripe.StripeClient) -> str | None:
    """The worker's job (worker/supervisor.py): the due refunds; a short description when any."""
    counts = process_due_refunds(conn, stripe_client)
    return "refunds " + ", ".join(f"{k} {v}" for k, v in counts.items()) if any(counts.values()) else None


def reconcile_job(conn: psycopg.Connection, stripe_client: stripe.StripeClient) -> str | None:
    """The worker's job: a reconciliation of the last 48 hours; a description when it did something."""
    run = reconcile(conn, stripe_client)
    if run["error"]:
        raise RuntimeError(f"reconciliation run {run['id']} stopped: {run['error']}")
    if run["fulfilled"] or run["problems"]:
        return f"reconcile run {run['id']}: {run['fulfilled']} fulfilled, {run['problems']} problems"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="job", required=True)
    p = sub.add_parser("process", help="make the due refunds at Stripe")
    p.add_argument("--limit", type=int, default=50)
    r = sub.add_parser("reconcile", help="fulfil paid Checkout Sessions whose webhook never came")
    r.add_argument("--hours", type=float, default=48.0)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = os.environ.get("WORKER_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        print("refunds: set WORKER_DATABASE_URL (or DATABASE_URL)", file=sys.stderr)
        return 2
    client = payments.stripe_client_from_env()
    if a.job == "process":
        counts = process_due_refunds(url, client, a.limit)
        print("refunds: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
        return 0
    run = reconcile(url, client, a.hours)
    print(f"reconcile: run {run['id']}: {run['sessions_seen']} sessions seen, {run['fulfilled']} fulfilled, "
          f"{run['problems']} problems" + (f", stopped: {run['error']}" if run["error"] else ""), flush=True)
    return 1 if run["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
