"""Benchmarks of Smart Session Routing (`make bench`, `python -m bench`).

Speed is measured here, never in the test suite. One run, on one server:

* the server's ceiling: pgbench select-only and tpcb-like, and `SELECT 1` latency;
* fulfill_checkout throughput and latency (pgbench custom script, same clients);
* accept under contention: 8 mechanics racing on each of 1,000 requests;
* routing, directory and analytics latency, at three data sizes;
* end to end: signed Stripe webhooks POSTed to the app under gunicorn.

A figure is the median of repeated runs, printed beside its baseline. A wrong
result (two winners, a lost or duplicated event) ends the run with exit code 1.
"""

EXIT_WRONG_RESULT = 1


class WrongResult(AssertionError):
    """A benchmark observed an incorrect result (not a slow one)."""
