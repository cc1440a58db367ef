"""The database side of the app: one connection pool per process and the one-call helper.

Every endpoint makes one stored-procedure call through `call()`: one statement in one
transaction, our SQLSTATEs mapped to ApiError (app/errors.py).

Three pools: DATABASE_URL, the customer/mechanic login ssr_app, for everything that writes or
decides (with high availability a multi-host URL with target_session_attrs=read-write: always
the primary); PAYMENTS_DATABASE_URL, the payments login ssr_payments, for what records a
payment (`call(..., pool="payments")`: the Stripe webhook, the success page's fulfillment and
status), the DATABASE_URL pool when unset (a DBA with one login for both); and
DATABASE_READ_URL for reads that may lag (`call(..., read=True)`: the directory; a
prefer-standby URL), the DATABASE_URL pool when unset. ssr_app cannot record a payment and
ssr_payments cannot act for a customer or a mechanic (docs/SECURITY.md).

Every connection of the pool runs under a `lock_timeout` and a `statement_timeout`
(LOCK_TIMEOUT_MS, STATEMENT_TIMEOUT_MS; an idle transaction is ended after
IDLE_IN_TRANSACTION_TIMEOUT_MS), set as connection options so no statement of the app,
and no transaction, can outlive them; both stay well below gunicorn's worker timeout
(gunicorn.conf.py checks it), so a held lock gives a 503 with Retry-After instead of a
killed worker. Each connection's application_name carries the worker's pid
(`ssr-app:<pid>`), so an operator can tell which worker holds which backend."""

from __future__ import annotations

import os
import select
import threading

import psycopg
from flask import Flask, current_app, g, has_request_context
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from app.errors import ApiError, from_db_error

# Database field names -> the names the client used.
PARAM_NAMES = {"p_preferred_workshop_id": "workshop_id", "preferred_workshop_id": "workshop_id",
               "p_routing_type": "routing_type", "p_limit": "limit", "p_offset": "offset", "plan_code": "plan"}


class LazyPool:
    """A psycopg_pool.ConnectionPool opened on first use, so a pre-forking server
    (gunicorn) opens one per worker process and importing the app touches no database.

    With a multi-host conninfo (target_session_attrs=read-write) a failover is survived:
    broken connections are dropped (checked before use by `check_idle_connection`, discarded
    when broken in use) and new ones go to the new primary. reconnect_timeout is short so that,
    after a failover, connecting again is driven by requests instead of an exponential backoff
    of minutes."""

    def __init__(self, conninfo: str, min_size: int, max_size: int, timeout: float,
                 reconnect_timeout: float = 5.0, name: str = "ssr-app", options: str = ""):
        self._args = (conninfo, min_size, max_size, timeout, reconnect_timeout, name)
        self._options = options
        self._pool = None
        self._lock = threading.Lock()

    def get(self):
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from psycopg_pool import ConnectionPool

                    conninfo, min_size, max_size, timeout, reconnect_timeout, name = self._args
                    self._pool = ConnectionPool(
                        conninfo,
                        min_size=min_size,
                        max_size=max_size,
                        timeout=timeout,
                        reconnect_timeout=reconnect_timeout,
                        kwargs={"autocommit": True, "application_name": f"{name}:{os.getpid()}",
                                "options": self._options},
                        check=check_idle_connection,  # drop connections broken by a restart
                        open=True,
                        name=name,
                    )
        return self._pool

    def connection(self):
        return self.get().connection()

    def close(self):
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def check_idle_connection(conn: psycopg.Connection) -> None:
    """The pool's check of a connection before each use, without a round trip when it is sound.

    An idle connection of the pool (autocommit, after its statement's answer) has nothing to
    read: its server speaks only when asked. If its socket is readable, the server said
    something unasked (the FATAL message of a backend terminated by a shutdown, a crash or
    pg_terminate_backend, or the end of the connection when the backend died) and psycopg_pool's
    own check runs (an empty statement, one round trip): it raises on a broken connection, which
    the pool then discards before trying another, as before. So a connection broken by a restart
    or a failover is still never handed out, and a sound one costs a poll() instead of a round
    trip to the database (measured by `make bench`: the round trip was the webhook's second of two).
    A connection already known to be closed or broken raises at once."""
    from psycopg_pool import ConnectionPool

    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        quiet = not poller.poll(0)
    except (AttributeError, OSError, ValueError, psycopg.Error):  # no poll() here, or no socket: ask the server
        quiet = False
    if not quiet:
        ConnectionPool.check_connection(conn)


def session_options(config) -> str:
    """libpq `options`: the timeouts every statement and transaction of the app runs under
    (followed by the `options` of DATABASE_URL, if any, which take precedence)."""
    own = conninfo_to_dict(config["DATABASE_URL"]).get("options") or ""
    return " ".join((
        f"-c lock_timeout={int(config['LOCK_TIMEOUT_MS'])}",
        f"-c statement_timeout={int(config['STATEMENT_TIMEOUT_MS'])}",
        f"-c idle_in_transaction_session_timeout={int(config['IDLE_IN_TRANSACTION_TIMEOUT_MS'])}",
        own,
    )).strip()


POOLS = {"main": "db_pool", "read": "db_read_pool", "payments": "db_payments_pool"}


def init_app(app: Flask) -> None:
    c = app.config
    args = (c["POOL_MIN_SIZE"], c["POOL_MAX_SIZE"], c["POOL_TIMEOUT"], c.get("POOL_RECONNECT_TIMEOUT", 5.0))
    main = app.extensions["db_pool"] = LazyPool(c["DATABASE_URL"], *args, options=session_options(c))
    for key, setting, name in (("db_read_pool", "DATABASE_READ_URL", "ssr-app-read"),
                               ("db_payments_pool", "PAYMENTS_DATABASE_URL", "ssr-app-payments")):
        url = c.get(setting)
        app.extensions[key] = (
            LazyPool(url, *args, name=name, options=session_options(dict(c, DATABASE_URL=url)))
            if url and url != c["DATABASE_URL"] else main
        )


def close_pools(app: Flask) -> None:
    """Close every pool of the app (each once: unset URLs share the DATABASE_URL pool)."""
    for pool in {id(p): p for p in (app.extensions.get(k) for k in POOLS.values()) if p is not None}.values():
        pool.close()


def get_pool(read: bool = False, pool: str | None = None) -> LazyPool:
    """The pool named `pool` (main, read, payments); read=True is pool="read"."""
    return current_app.extensions[POOLS[pool or ("read" if read else "main")]]


def call(sql: str, params: tuple, *, path_ids: bool = False, many: bool = False, acting_mechanic=None,
         acting_customer=None, acting_staff=None, read: bool = False, pool: str | None = None):
    """Run one statement in one transaction and map our SQLSTATEs to ApiError.
    acting_mechanic / acting_customer / acting_staff set app.mechanic_id / app.customer_id /
    app.staff_id for that transaction, from the verified token: the functions that act for a
    mechanic, a customer or staff refuse (SR403) unless it names the one the call is for (and,
    for staff, one listed in staff_members at the level needed). The database honours
    these settings only from the app's login (members of role ssr_app). Beside them goes
    app.token_id, the id of the request's token (app/auth.py), which the database refuses
    (SR401, 401) when that token is revoked: checked in the same transaction, no extra trip.
    read=True: a read that may lag, on DATABASE_READ_URL (a standby); never for a decision.
    pool="payments": on PAYMENTS_DATABASE_URL (the payments login), for the calls that record
    a payment; acting_* are refused there (the payments login acts for nobody)."""
    acting = (acting_mechanic, acting_customer, acting_staff)
    if pool == "payments" and any(a is not None for a in acting):
        raise ValueError("the payments pool acts for no customer, mechanic or staff member")
    if any(isinstance(p, str) and "\x00" in p for p in params):  # PostgreSQL text cannot hold NUL
        raise ApiError(400, "invalid_input", "NUL bytes are not allowed")
    try:
        with get_pool(read, pool).connection() as conn:
            try:
                cur = conn.cursor(row_factory=dict_row)
                if all(a is None for a in acting):
                    # One statement on an autocommit connection is one transaction: no BEGIN
                    # and COMMIT round trips.
                    cur.execute(sql, params)
                    return cur.fetchall() if many else cur.fetchone()
                principal = g.get("principal") if has_request_context() else None
                settings = [(name, str(value)) for name, value in (
                    ("app.mechanic_id", acting_mechanic), ("app.customer_id", acting_customer),
                    ("app.staff_id", acting_staff), ("app.token_id", getattr(principal, "token_id", None))) if value is not None]
                with conn.transaction():
                    cur.execute("SELECT " + ", ".join(["set_config(%s, %s, TRUE)"] * len(settings)),
                                [v for pair in settings for v in pair])
                    cur.execute(sql, params)
                    return cur.fetchall() if many else cur.fetchone()
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                # The server this connection was opened to is read-only now (demoted, or a
                # promoted standby not yet accepting writes): drop it, the next one goes to
                # the primary, and let the client retry.
                conn.close()
                raise ApiError(503, "database_read_only", "the database is read-only, retry later",
                               headers={"Retry-After": "5"}) from exc
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:
        mapped = from_db_error(exc, path_ids=path_ids, field_map=PARAM_NAMES)
        if mapped is None:
            raise
        raise mapped from exc


def ping(timeout: float = 0.5) -> None:
    """A health check: one connection from the pool (waiting at most `timeout`) and `SELECT 1` under a
    statement_timeout of the same length; it touches no table, so a held lock does not slow it down.
    Raises psycopg.OperationalError (PoolTimeout included) when the database cannot answer in time."""
    with get_pool().get().connection(timeout=timeout) as conn, conn.transaction():
        conn.execute("SELECT set_config('statement_timeout', %s, TRUE)", (str(int(timeout * 1000)),))
        conn.execute("SELECT 1")
