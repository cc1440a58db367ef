"""A synthetic marketplace, generated fast with set-based SQL.

Scale 1 = 2,000 workshops, 20,000 mechanics, 200,000 customers and 1,000,000
past sessions, each with its accepted session_request and a review, plus 3 %
expired requests and 0.5 % requests pending now. Ids are deterministic (md5 of a tag and a number), so a row's
relations are computed, not looked up. Rows are inserted with
session_replication_role = replica (no row triggers, no FK checks: the data is
consistent by construction) and the cached aggregates are then recomputed in
set-based statements, including any recompute function of the schema.

The scale, the generator version and the applied migrations are stored in
ssr_bench_meta.dataset: a later run at the same scale reuses the data.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass

import psycopg

from bench.progress import Progress

GENERATOR_VERSION = "4"
CHUNK = 50_000

# Ids of the big tables (sessions, requests, reviews) increase with the row number: their
# primary and unique keys are appended to, not inserted at random (md5 ids made every insert
# a random B-tree page, and the load of 10M sessions several times slower). A 4-hex-digit tag
# per table, then the number: pg_temp.seq_uuid('5e55', 7) = 5e550000-0000-0000-0000-000000000007.
SEQ_UUID = """
CREATE FUNCTION pg_temp.seq_uuid(tag text, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
AS $$ SELECT (tag || lpad(to_hex(n), 28, '0'))::uuid $$
"""

META = """
CREATE SCHEMA IF NOT EXISTS ssr_bench_meta;
CREATE TABLE IF NOT EXISTS ssr_bench_meta.dataset (
    id boolean PRIMARY KEY DEFAULT TRUE CHECK (id),
    scale numeric NOT NULL,
    generator text NOT NULL,
    migrations text NOT NULL,
    counts jsonb NOT NULL,
    seconds numeric NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now()
);
"""

PLANS = """
INSERT INTO plans (code, name, session_type, price_minor, currency, duration_minutes) VALUES
('video15', '15-minute video session', 'video', 2900, 'usd', 15),
('video30', '30-minute video session', 'video', 4900, 'usd', 30),
('diag45', '45-minute diagnostic session', 'diagnostic', 6900, 'usd', 45)
ON CONFLICT (code) DO NOTHING
"""

# Workshop w (1..W): every 20th suspended, the one before pending, the rest active.
WORKSHOPS = """
INSERT INTO organizations (id, name, contact_email, status, created_at, updated_at)
SELECT md5('bench-w-' || w)::uuid, 'Workshop ' || w, 'contact' || w || '@workshop.example',
       CASE w % 20 WHEN 19 THEN 'suspended' WHEN 18 THEN 'pending' ELSE 'active' END,
       now() - make_interval(days => 400 + w % 300), now() - make_interval(days => w % 30)
FROM generate_series(1, %(W)s) AS w
"""

# Mechanic j (1..M), by independent hashes of j: 15 % independent, the others spread over the
# workshops; 30 % available; 2 % suspended.
MECH_WORKSHOP = ("CASE WHEN abs(hashtext('ind-' || {j})) % 100 < 15 THEN NULL "
                 "ELSE md5('bench-w-' || (1 + abs(hashtext('ws-' || {j})) % %(W)s))::uuid END")
MECHANICS = f"""
INSERT INTO mechanics (id, workshop_id, name, email, status, is_available, last_seen_at, rating, created_at)
SELECT md5('bench-m-' || j)::uuid, {MECH_WORKSHOP.format(j='j')},
       'Mechanic ' || j, 'mechanic' || j || '@bench.example',
       CASE WHEN abs(hashtext('sus-' || j)) % 50 = 7 THEN 'suspended' ELSE 'active' END,
       abs(hashtext('av-' || j)) % 10 < 3, now() - make_interval(mins => j % 600), NULL,
       now() - make_interval(days => 380 + j % 300)
FROM generate_series(1, %(M)s) AS j
"""

CUSTOMERS = """
INSERT INTO customers (id, email, name, created_at)
SELECT md5('bench-c-' || c)::uuid, 'customer' || c || '@bench.example', 'Customer ' || c,
       now() - make_interval(days => 370 + c % 100)
FROM generate_series(1, %(C)s) AS c
"""

# Session i (lo..hi): mechanic 1 + (i * 7919) % M, customer 1 + (i * 104729) % C, over the
# last 365 days, accepted after 20 to 420 s (hundredths of a second: the analytics
# histograms' bucket error shows). Routing: 50 % broadcast, 30 % hybrid (80 % served by the preferred
# workshop), 20 % workshop_only; independents only serve broadcast requests.
SESSION_ROWS = f"""
WITH base AS (
    SELECT i, 1 + (i * 7919) % %(M)s AS j, 1 + (i * 104729) % %(C)s AS c,
           (ARRAY['video15', 'video30', 'diag45'])[1 + i % 3] AS plan_code,
           date_trunc('day', now()) - make_interval(secs => (%(S)s - i) * 31536000.0 / %(S)s) AS created_at
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i
),
mech AS (
    SELECT b.*, {MECH_WORKSHOP.format(j='b.j')} AS workshop_id FROM base AS b
),
routed AS (
    SELECT m.*,
           CASE WHEN m.workshop_id IS NULL OR m.i % 10 < 5 THEN 'broadcast'
                WHEN m.i % 10 < 8 THEN 'hybrid' ELSE 'workshop_only' END AS routing_type
    FROM mech AS m
),
rows AS (
    SELECT r.i, r.plan_code, r.routing_type, r.workshop_id, r.created_at,
           pg_temp.seq_uuid('5e55', r.i) AS session_id, pg_temp.seq_uuid('4e90', r.i) AS request_id,
           md5('bench-m-' || r.j)::uuid AS mechanic_id, md5('bench-c-' || r.c)::uuid AS customer_id,
           CASE r.routing_type WHEN 'broadcast' THEN NULL
                WHEN 'hybrid' THEN CASE WHEN r.i % 5 = 0 THEN md5('bench-w-' || (1 + r.i % %(W)s))::uuid
                                        ELSE r.workshop_id END
                ELSE r.workshop_id END AS preferred_workshop_id,
           r.created_at + make_interval(secs => 20 + r.i % 400 + (r.i % 97) / 100.0) AS accepted_at,
           p.price_minor, p.currency, p.duration_minutes
    FROM routed AS r INNER JOIN plans AS p ON p.code = r.plan_code
)
"""

SESSIONS = SESSION_ROWS + """
INSERT INTO sessions (id, customer_id, mechanic_id, plan_code, stripe_checkout_session_id,
                      amount_total_minor, currency, status, created_at, started_at, ended_at,
                      workshop_id, preferred_workshop_id)
SELECT session_id, customer_id, mechanic_id, plan_code, 'cs_bench_' || lpad(i::text, 12, '0'), price_minor, currency,
       'completed', created_at, accepted_at, accepted_at + make_interval(mins => duration_minutes),
       workshop_id, preferred_workshop_id
FROM rows
"""

REQUESTS = SESSION_ROWS + """
INSERT INTO session_requests (id, session_id, customer_id, plan_code, status, mechanic_id, created_at,
                              accepted_at, workshop_id, preferred_workshop_id, routing_type)
SELECT request_id, session_id, customer_id, plan_code, 'accepted', mechanic_id, created_at,
       accepted_at, workshop_id, preferred_workshop_id, routing_type
FROM rows
"""

REVIEWS = SESSION_ROWS + """
INSERT INTO reviews (id, session_id, customer_id, mechanic_id, rating, comment, created_at)
SELECT pg_temp.seq_uuid('4e71', i), session_id, customer_id, mechanic_id,
       (ARRAY[5, 5, 4, 5, 3, 4, 5, 2, 5, 4, 1])[1 + (i * 13) % 11], NULL,
       accepted_at + interval '1 hour'
FROM rows
"""

# Requests nobody took: expired, with a preferred workshop half of the time.
EXPIRED = """
INSERT INTO session_requests (id, session_id, customer_id, plan_code, status, mechanic_id, created_at,
                              closed_at, preferred_workshop_id, routing_type)
SELECT pg_temp.seq_uuid('e1a5', k), NULL, md5('bench-c-' || (1 + (k * 104729) % %(C)s))::uuid,
       (ARRAY['video15', 'video30', 'diag45'])[1 + k % 3], 'expired', NULL, t, t + interval '10 minutes',
       CASE WHEN k % 2 = 0 THEN md5('bench-w-' || (1 + k % %(W)s))::uuid END,
       CASE WHEN k % 2 = 0 THEN (ARRAY['hybrid', 'workshop_only'])[1 + k % 4 / 2] ELSE 'broadcast' END
FROM generate_series(1::bigint, %(X)s::bigint) AS k,
     LATERAL (SELECT date_trunc('day', now()) - make_interval(secs => (%(X)s - k) * 31536000.0 / %(X)s) AS t) AS tt
"""

# Requests waiting now (what mechanics' dashboards poll): 0.5 % of the sessions, created in
# the last hour, half broadcast, 30 % hybrid (window passed), 20 % workshop_only.
PENDING = """
INSERT INTO session_requests (id, session_id, customer_id, plan_code, status, created_at, expires_at,
                              preferred_workshop_id, routing_type)
SELECT pg_temp.seq_uuid('9e4d', k), NULL, md5('bench-c-' || (1 + (k * 104729) % %(C)s))::uuid,
       (ARRAY['video15', 'video30', 'diag45'])[1 + k % 3], 'pending',
       now() - make_interval(secs => k % 3600), now() + interval '30 days',
       CASE WHEN k % 10 >= 5 THEN md5('bench-w-' || CASE WHEN (1 + k % %(W)s) % 20 >= 18 THEN k % %(W)s - 1
                                                          ELSE 1 + k % %(W)s END)::uuid END,
       CASE WHEN k % 10 < 5 THEN 'broadcast' WHEN k % 10 < 8 THEN 'hybrid' ELSE 'workshop_only' END
FROM generate_series(1::bigint, %(P)s::bigint) AS k
"""

RATINGS = """
UPDATE mechanics AS m SET rating = round(r.avg_rating, 2)
FROM (SELECT mechanic_id, avg(rating) AS avg_rating FROM reviews GROUP BY mechanic_id) AS r
WHERE r.mechanic_id = m.id AND m.rating IS DISTINCT FROM round(r.avg_rating, 2)
"""


@dataclass(frozen=True)
class Sizes:
    workshops: int
    mechanics: int
    customers: int
    sessions: int
    expired: int
    pending: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        return cls(
            workshops=max(1, round(2_000 * scale)),
            mechanics=max(2, round(20_000 * scale)),
            customers=max(1, round(200_000 * scale)),
            sessions=max(1, round(1_000_000 * scale)),
            expired=max(1, round(30_000 * scale)),
            pending=max(1, round(5_000 * scale)),
        )

    def params(self) -> dict:
        return {"W": self.workshops, "M": self.mechanics, "C": self.customers, "S": self.sessions, "X": self.expired,
                "P": self.pending}


def fill(template: str, params: dict) -> str:
    """Put integer parameters into generator SQL (no client-side placeholders: '%' is modulo here)."""
    out = template
    for k, v in params.items():
        out = out.replace(f"%({k})s", str(int(v)))
    if "%(" in out:
        raise ValueError(f"unfilled parameter in generator SQL: {out[out.index('%('):][:20]}")
    return out


def migrations_fingerprint(conn: psycopg.Connection) -> str:
    rows = conn.execute("SELECT version, checksum FROM ssr_meta.schema_migrations ORDER BY version").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def stored_dataset(conn: psycopg.Connection) -> dict | None:
    if not conn.execute("SELECT to_regclass('ssr_bench_meta.dataset') IS NOT NULL").fetchone()[0]:
        return None
    row = conn.execute("SELECT scale, generator, migrations, counts, seconds FROM ssr_bench_meta.dataset").fetchone()
    if not row:
        return None
    return {"scale": float(row[0]), "generator": row[1], "migrations": row[2], "counts": row[3],
            "seconds": float(row[4])}


def is_reusable(conn: psycopg.Connection, scale: float) -> bool:
    """The stored dataset is this scale's, from this generator and these migrations, and still
    holds what was generated: the measurements that write run on a copy, but anything else run
    against the dataset itself (a profiling session's pgbench, say) would add sessions and
    pending requests that every later figure would carry."""
    got = stored_dataset(conn)
    if not (got and got["scale"] == float(scale) and got["generator"] == GENERATOR_VERSION
            and got["migrations"] == migrations_fingerprint(conn)):
        return False
    info = got.get("counts") or {}  # what generate() returned: its "counts" and phases
    counts = info.get("counts") or {}
    now = conn.execute("SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM session_requests)").fetchone()
    return now == (counts.get("sessions"), counts.get("session_requests"))


def recompute_functions(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """Zero-argument *_rebuild / recompute_* functions of the schema (schema, name, kind), e.g.
    ssr_private.workshop_stats_rebuild() (the owner's repairs live in ssr_private; older releases
    had them in public)."""
    rows = conn.execute(
        """
        SELECT n.nspname, p.proname, p.prokind FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'ssr_private') AND p.pronargs - p.pronargdefaults = 0
          AND p.prokind IN ('f', 'p') AND p.prorettype <> 'trigger'::regtype
          AND p.proname ~ '(^|_)(rebuild|recompute)(_|$)'
        ORDER BY p.proname, n.nspname
        """
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


BULK_TABLES = ("sessions", "session_requests", "reviews")
SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid = ANY(%s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""


def drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the indexes of the bulk-loaded tables that back no constraint (they are rebuilt
    after the load with CREATE INDEX, a sort, instead of millions of random B-tree inserts,
    each first touch after a checkpoint a full page image in the WAL); returns their DDL."""
    rows = conn.execute(SECONDARY_INDEXES, (list(BULK_TABLES),)).fetchall()
    for name, _ddl in rows:
        conn.execute(f"DROP INDEX {name}")
    return [ddl for _name, ddl in rows]


def generate(url: str, scale: float, log=print) -> dict:
    """Fill an empty, migrated database; returns what was stored in ssr_bench_meta.dataset."""
    sizes = Sizes.for_scale(scale)
    p = sizes.params()
    t0 = time.perf_counter()
    chunks = [(lo, min(lo + CHUNK - 1, sizes.sessions)) for lo in range(1, sizes.sessions + 1, CHUNK)]
    # Work units for the bar: rows written.
    total = sizes.workshops + sizes.mechanics + sizes.customers + 3 * sizes.sessions + sizes.expired + sizes.pending
    bar = Progress(f"data x{scale:g}", total)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(META)
        conn.execute(SEQ_UUID)
        conn.execute("DELETE FROM ssr_bench_meta.dataset")
        conn.execute("SET session_replication_role = replica")
        # This session only, for the bulk load of the dataset (not a measured phase): a crash
        # would lose the last commits of a dataset that is regenerated anyway. Every
        # measurement runs on new connections with the server's durable settings.
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        index_ddl = drop_secondary_indexes(conn)
        conn.execute(PLANS)
        conn.execute(fill(WORKSHOPS, p))
        bar.update(sizes.workshops, "workshops")
        conn.execute(fill(MECHANICS, p))
        bar.update(sizes.mechanics, "mechanics")
        conn.execute(fill(CUSTOMERS, p))
        bar.update(sizes.customers, "customers")
        for lo, hi in chunks:
            q = dict(p, lo=lo, hi=hi)
            with conn.transaction():
                conn.execute(fill(SESSIONS, q))
                conn.execute(fill(REQUESTS, q))
                conn.execute(fill(REVIEWS, q))
            bar.update(3 * (hi - lo + 1), "sessions, requests, reviews")
        conn.execute(fill(EXPIRED, p))
        bar.update(sizes.expired, "expired requests")
        conn.execute(fill(PENDING, p))
        bar.update(sizes.pending, "pending requests")
        conn.execute("SET session_replication_role = origin")
        bar.close()
        t_rows = time.perf_counter() - t0
        t_idx = time.perf_counter()
        for ddl in index_ddl:
            conn.execute(ddl)
        t_indexes = time.perf_counter() - t_idx
        t1 = time.perf_counter()
        conn.execute(RATINGS)
        recomputed = []
        for schema, fn, kind in recompute_functions(conn):
            conn.execute(f'CALL "{schema}"."{fn}"()' if kind == "p" else f'SELECT "{schema}"."{fn}"()')
            recomputed.append(fn)
        t_agg = time.perf_counter() - t1
        t2 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        t_vacuum = time.perf_counter() - t2
        seconds = time.perf_counter() - t0
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("organizations", "mechanics", "customers", "sessions", "session_requests", "reviews")
        }
        info = {
            "scale": float(scale), "generator": GENERATOR_VERSION, "migrations": migrations_fingerprint(conn),
            "counts": counts, "seconds": round(seconds, 1),
            "phases": {"rows_s": round(t_rows, 1), "indexes_s": round(t_indexes, 1), "aggregates_s": round(t_agg, 1),
                       "vacuum_analyze_s": round(t_vacuum, 1),
                       "recompute_functions": recomputed},
        }
        conn.execute(
            "INSERT INTO ssr_bench_meta.dataset (scale, generator, migrations, counts, seconds) "
            "VALUES (%s, %s, %s, %s, %s)",
            (scale, GENERATOR_VERSION, info["migrations"], psycopg.types.json.Jsonb(info), seconds),
        )
    log(f"data x{scale:g}: generated in {seconds:.1f}s (rows {t_rows:.1f}s, indexes {t_indexes:.1f}s, "
        f"aggregates {t_agg:.1f}s, "
        f"vacuum/analyze {t_vacuum:.1f}s): " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return info


def sizes_dict(scale: float) -> dict:
    return asdict(Sizes.for_scale(scale))
