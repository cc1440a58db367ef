from tests.dbutil import load_seeds


def test_plpython_is_installed_in_migrated_db(conn):
    got = conn.execute("SELECT extname FROM pg_extension WHERE extname = 'plpython3u'").fetchone()
    assert got == ("plpython3u",)
    conn.execute("CREATE FUNCTION py_add(a int, b int) RETURNS int LANGUAGE plpython3u AS 'return a + b'")
    assert conn.execute("SELECT py_add(2, 3)").fetchone()[0] == 5


def test_seed_loads_twice(seeded_conn):
    before = seeded_conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    load_seeds(seeded_conn)
    after = seeded_conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    assert before == after == 60
