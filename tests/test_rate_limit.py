"""rate_limit_take: the abuse limits' counters in Postgres (app/limits.py), shared by every app
process: a fixed window per key, race-safe, pruned, callable by the app's login only."""

from __future__ import annotations

import threading

import psycopg
import pytest

TAKE = "SELECT allowed, retry_after, remaining FROM rate_limit_take(%s, %s, %s)"


def test_the_limit_plus_one_is_refused_until_the_window_ends(app_db_url):
    with psycopg.connect(app_db_url, autocommit=True) as app:
        got = [app.execute(TAKE, ("sign_in:address:192.0.2.1", 3, 60)).fetchone() for _ in range(4)]
        assert [g[0] for g in got] == [True, True, True, False]
        assert [g[2] for g in got] == [2, 1, 0, 0]
        assert got[3][1] in range(59, 61) and got[0][1] == 0
        # Another key is independent; a short window ends and the key starts again.
        assert app.execute(TAKE, ("sign_in:address:192.0.2.2", 3, 60)).fetchone()[0] is True
        assert [app.execute(TAKE, ("k1", 1, 1)).fetchone()[0] for _ in range(2)] == [True, False]
        app.execute("SELECT pg_sleep(1.1)")
        assert app.execute(TAKE, ("k1", 1, 1)).fetchone() == (True, 0, 0)


def test_concurrent_takes_never_allow_more_than_the_limit(db_url, app_db_url):
    limit, threads, each = 25, 4, 20
    allowed: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker():
        with psycopg.connect(app_db_url, autocommit=True) as c:
            barrier.wait()
            mine = [c.execute(TAKE, ("race", limit, 60)).fetchone()[0] for _ in range(each)]
        with lock:
            allowed.extend(mine)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert allowed.count(True) == limit and len(allowed) == threads * each
    with psycopg.connect(db_url, autocommit=True) as owner:
        assert owner.execute("SELECT hits FROM ssr_private.rate_limit_counters WHERE key = 'race'").fetchone() == (
            limit + 1,)


def test_two_transactions_on_one_key_serialize_on_its_row(app_db_url):
    """The second take waits for the first's row lock and counts on top of it (no lost update)."""
    with psycopg.connect(app_db_url) as a, psycopg.connect(app_db_url) as b:
        assert a.execute(TAKE, ("pair", 1, 60)).fetchone()[0] is True  # a holds the row, uncommitted
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("b", b.execute(TAKE, ("pair", 1, 60)).fetchone()))
        t.start()
        t.join(0.5)
        assert t.is_alive()  # waiting for a
        a.commit()
        t.join(10)
        assert result["b"][0] is False
        b.commit()


def test_old_windows_are_pruned_and_bad_input_is_refused(db_url, app_db_url):
    with psycopg.connect(db_url, autocommit=True) as owner, psycopg.connect(app_db_url, autocommit=True) as app:
        owner.execute("INSERT INTO ssr_private.rate_limit_counters (key, window_start, expires_at, hits) "
                      "SELECT 'old' || g, now() - interval '2 hours', now() - interval '1 hour', 1 "
                      "FROM generate_series(1, 50) AS g")
        for _ in range(1000):  # about one take in 100 prunes
            app.execute(TAKE, ("busy", 1000000, 60))
            if owner.execute("SELECT count(*) FROM ssr_private.rate_limit_counters WHERE key LIKE 'old%'").fetchone()[0] == 0:
                break
        else:
            pytest.fail("old windows were never pruned")
        for args, field in [((None, 1, 1), "key"), (("", 1, 1), "key"), (("x" * 201, 1, 1), "key"),
                            (("k", 0, 1), "limit"), (("k", None, 1), "limit"), (("k", 1, 0), "window"),
                            (("k", 1, 86401), "window")]:
            with pytest.raises(psycopg.Error) as err:
                app.execute(TAKE, args)
            assert err.value.sqlstate == "SR400" and err.value.diag.column_name == field
        assert owner.execute("SELECT count(*) FROM ssr_private.rate_limit_counters WHERE key = 'k'").fetchone() == (0,)
        assert owner.execute("SELECT relpersistence FROM pg_class WHERE oid = 'ssr_private.rate_limit_counters'::regclass"
                             ).fetchone() == ("u",)


def test_only_the_app_may_take(db_url):
    with psycopg.connect(db_url, autocommit=True) as owner:
        rows = owner.execute("SELECT r.rolname FROM pg_roles AS r WHERE has_function_privilege(r.oid, "
                             "'rate_limit_take(text,integer,integer)', 'EXECUTE') AND NOT r.rolsuper "
                             "AND r.rolname IN ('ssr_app', 'mechanic', 'analytics', 'customer')").fetchall()
        assert [r[0] for r in rows] == ["ssr_app"]
