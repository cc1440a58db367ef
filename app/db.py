"""The database side of the app: one connection pool per process and the one-call helper.

Every endpoint makes one stored-procedure call through `call()`: one statement in one
transaction, our SQLSTATEs mapped to ApiError (app/errors.py)."""

from __future__ import annotations

import threading

import psycopg
from flask import Flask, current_app
from psycopg.rows import dict_row

from app.errors import from_db_error

# Database field names -> the names the client used.
PARAM_NAMES = {"p_preferred_workshop_id": "workshop_id", "preferred_workshop_id": "workshop_id",
               "p_routing_type": "routing_type", "p_limit": "limit", "p_offset": "offset", "plan_code": "plan"}


class LazyPool:
    """A psycopg_pool.ConnectionPool opened on first use, so a pre-forking server
    (gunicorn) opens one per worker process and importing the app touches no database."""

    def __init__(self, conninfo: str, min_size: int, max_size: int, timeout: float):
        self._args = (conninfo, min_size, max_size, timeout)
        self._pool = None
        self._lock = threading.Lock()

    def get(self):
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from psycopg_pool import ConnectionPool

                    conninfo, min_size, max_size, timeout = self._args
                    self._pool = ConnectionPool(
                        conninfo,
                        min_size=min_size,
                        max_size=max_size,
                        timeout=timeout,
                        kwargs={"autocommit": True, "application_name": "ssr-app"},
                        check=ConnectionPool.check_connection,  # drop connections broken by a restart
                        open=True,
                        name="ssr-app",
                    )
        return self._pool

    def connection(self):
        return self.get().connection()

    def close(self):
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def init_app(app: Flask) -> None:
    c = app.config
    app.extensions["db_pool"] = LazyPool(c["DATABASE_URL"], c["POOL_MIN_SIZE"], c["POOL_MAX_SIZE"], c["POOL_TIMEOUT"])


def get_pool() -> LazyPool:
    return current_app.extensions["db_pool"]


def call(sql: str, params: tuple, *, path_ids: bool = False, many: bool = False, acting_mechanic=None,
         acting_customer=None):
    """Run one statement in one transaction and map our SQLSTATEs to ApiError.
    acting_mechanic sets app.mechanic_id for that transaction (the routing functions and
    the mechanic RLS policy check it against the mechanic the call is for); acting_customer
    sets app.customer_id the same way for the functions acting for a customer."""
    try:
        with get_pool().connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            if acting_mechanic is not None:
                cur.execute("SELECT set_config('app.mechanic_id', %s, TRUE)", (str(acting_mechanic),))
            if acting_customer is not None:
                cur.execute("SELECT set_config('app.customer_id', %s, TRUE)", (str(acting_customer),))
            cur.execute(sql, params)
            return cur.fetchall() if many else cur.fetchone()
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:
        mapped = from_db_error(exc, path_ids=path_ids, field_map=PARAM_NAMES)
        if mapped is None:
            raise
        raise mapped from exc
