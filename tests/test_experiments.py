"""Experiments on routing policies: definitions checked (bad ones write nothing), start/stop by an
admin and audited, one running experiment per parameter (race-safe), assignment by customer hash
and by switchback window, the engine reading the request's policy, the per-unit rollup, guardrails,
and the statistics' known answers (PL/Python)."""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager

import psycopg
import pytest

from tests.test_routing_world import build_world, new_request, new_session

ADMIN = "44444444-4444-4444-8444-0000000000e1"
SUPPORT = "44444444-4444-4444-8444-0000000000e2"


@pytest.fixture
def world(conn):
    conn.execute(
        "INSERT INTO staff_members (id, email, name, staff_role, is_active) VALUES "
        "(%s, 'ea@s.example', 'Eda', 'admin', TRUE), (%s, 'eb@s.example', 'Ebo', 'support', TRUE)",
        (ADMIN, SUPPORT),
    )
    return build_world(conn)


@contextmanager
def acting(conn, staff):
    with conn.transaction():
        conn.execute("SELECT set_config('app.staff_id', %s, TRUE)", (staff,))
        yield conn


def call(conn, sql, params, staff=ADMIN):
    with acting(conn, staff):
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute(sql, params).fetchone()


def create(conn, definition, staff=ADMIN):
    return call(conn, "SELECT * FROM create_routing_experiment(%s, %s)", (staff, json.dumps(definition)), staff)


def start(conn, exp_id, staff=ADMIN):
    return call(conn, "SELECT * FROM start_routing_experiment(%s, %s)", (staff, exp_id), staff)


def stop(conn, exp_id, staff=ADMIN, reason=None):
    return call(conn, "SELECT * FROM stop_routing_experiment(%s, %s, %s)", (staff, exp_id, reason), staff)


def window_def(name="window", unit="customer", **extra):
    d = {
        "name": name, "unit": unit, "seed": 7,
        "arms": [
            {"name": "control", "weight": 0.5, "control": True, "params": {}},
            {"name": "short", "weight": 0.5, "params": {"hybrid_window_seconds": 30}},
        ],
    }
    d.update(extra)
    return d


TABLES = ("routing_experiments", "routing_experiment_arms", "routing_policies", "routing_experiment_running")


def counts(conn):
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES} | {
        "audit": conn.execute("SELECT count(*) FROM ssr_private.staff_actions").fetchone()[0]
    }


def refused(conn, fn, *args, sqlstate="SR400", column=None, message=None):
    before = counts(conn)
    with pytest.raises(psycopg.Error) as info:
        fn(conn, *args)
    err = info.value
    assert err.sqlstate == sqlstate, err
    if column:
        assert err.diag.column_name == column, err.diag.column_name
    if message:
        assert message in str(err), str(err)
    assert counts(conn) == before
    return err


def test_no_experiment_routes_under_the_default_policy_and_records_nothing(conn, world):
    default = conn.execute("SELECT id FROM routing_policies WHERE is_default").fetchone()[0]
    r = new_request(conn, world, "hybrid", "alpha")
    assert r["routing_policy_id"] == default
    assert (r["exclusive_until"] - r["created_at"]).total_seconds() == 60
    assert conn.execute("SELECT count(*) FROM routing_experiment_assignments").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM experiment_changes").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"arms": [{"name": "a", "weight": 0.5, "params": {}}, {"name": "b", "weight": 0.4,
                                                              "params": {"hybrid_window_seconds": 30}}]},
         "arms", "sum to 1"),
        ({"arms": [{"name": "a", "weight": 0.5, "params": {}}, {"name": "b", "weight": 0.5,
                                                              "params": {"no_such_knob": 3}}]},
         "arms", "unknown routing parameter 'no_such_knob'"),
        ({"arms": [{"name": "a", "weight": 0.5, "params": {}}, {"name": "b", "weight": 0.5, "params": {}}]},
         "arms", "set no parameter"),
        ({"arms": [{"name": "a", "weight": 0.5, "params": {"hybrid_window_seconds": 60}},
                   {"name": "b", "weight": 0.5, "params": {}}]}, "arms", "alike"),
        ({"arms": [{"name": "a", "weight": 0.5, "control": True, "params": {}},
                   {"name": "b", "weight": 0.5, "control": True, "params": {"hybrid_window_seconds": 9}}]},
         "arms", "one arm is the control"),
        ({"arms": [{"name": "a", "weight": 0.5, "params": {}},
                   {"name": "b", "weight": 0.5, "params": {"hybrid_window_seconds": -5}}]},
         "params", "between 0 and 86400"),
        ({"unit": "switchback"}, "window_seconds", "window_seconds"),
        ({"unit": "switchback", "window_seconds": 3600}, "grouping", "grouping"),
        ({"unit": "customer", "window_seconds": 3600}, "unit", "switchback experiments only"),
        ({"unit": "household"}, "unit", "customer or switchback"),
        ({"guardrails": [{"metric": "happiness", "max": 0.1}]}, "guardrails", "metric"),
        ({"routing_types": ["teleport"]}, "routing_types", "routing_types"),
        ({"name": "Bad Name"}, "name", "name"),
    ],
)
def test_a_bad_definition_is_a_clear_error_that_writes_nothing(conn, world, change, column, message):
    refused(conn, create, window_def() | change, column=column, message=message)


def test_only_an_admin_defines_starts_and_stops(conn, world):
    refused(conn, create, window_def(), SUPPORT, sqlstate="SR403", column="staff_id")
    exp = create(conn, window_def())
    refused(conn, start, exp["id"], SUPPORT, sqlstate="SR403")
    # support may read
    rows = call(conn, "SELECT get_routing_experiments(%s) AS j", (SUPPORT,), SUPPORT)["j"]
    assert [e["name"] for e in rows] == ["window"]
    assert [a["arm"] for a in rows[0]["arms"]] == ["control", "short"]


def test_lifecycle_is_audited_and_one_running_experiment_per_parameter(conn, world):
    exp = create(conn, window_def())
    assert exp["state"] == "draft"
    refused(conn, stop, exp["id"], sqlstate="SR409", column="state")
    assert start(conn, exp["id"])["state"] == "running"
    refused(conn, start, exp["id"], sqlstate="SR409", column="state")
    # a second experiment on the same parameter: refused at definition while the first runs
    refused(conn, create, window_def("other"), sqlstate="SR409", message="running experiment 'window'")
    stopped = stop(conn, exp["id"], reason="enough")
    assert stopped["state"] == "stopped" and stopped["stop_reason"] == "enough"
    assert stop(conn, exp["id"])["stopped_at"] == stopped["stopped_at"]  # a repeat changes nothing
    actions = [a for (a,) in conn.execute(
        "SELECT action FROM ssr_private.staff_actions WHERE subject = %s ORDER BY id", (f"routing_experiment:{exp['id']}",)
    )]
    assert actions == ["experiment_created", "experiment_started", "experiment_stopped"]
    other = create(conn, window_def("other"))
    assert start(conn, other["id"])["state"] == "running"


def test_two_concurrent_starts_on_one_parameter_exactly_one_wins(conn, db_url, world):
    a = create(conn, window_def("race-a"))
    b = create(conn, window_def("race-b", arms=[
        {"name": "control", "weight": 0.5, "params": {}},
        {"name": "long", "weight": 0.5, "params": {"hybrid_window_seconds": 120, "open_wait_seconds": 900}},
    ]))
    barrier = threading.Barrier(2)
    results = {}

    def run(exp_id):
        with psycopg.connect(db_url) as c:
            c.execute("SELECT set_config('app.staff_id', %s, TRUE)", (ADMIN,))
            c.execute("SELECT 1 FROM routing_experiments WHERE id = %s", (exp_id,))
            barrier.wait()
            try:
                c.execute("SELECT state FROM start_routing_experiment(%s, %s)", (ADMIN, exp_id))
                c.commit()
                results[exp_id] = "won"
            except psycopg.Error as e:
                results[exp_id] = e.sqlstate

    threads = [threading.Thread(target=run, args=(x["id"],)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["SR409", "won"], results
    assert conn.execute("SELECT count(*) FROM routing_experiments WHERE state = 'running'").fetchone()[0] == 1
    assert conn.execute("SELECT count(DISTINCT experiment_id) FROM routing_experiment_running").fetchone()[0] == 1


def test_customer_hash_gives_a_customer_one_arm_and_the_engine_reads_the_arm_policy(conn, world):
    exp = create(conn, window_def())
    start(conn, exp["id"])
    reqs = [new_request(conn, world, "hybrid", "alpha") for _ in range(3)]
    rows = conn.execute(
        "SELECT a.arm, a.unit_key, r.routing_policy_id, p.params, extract(EPOCH FROM r.exclusive_until - r.created_at) "
        "FROM routing_experiment_assignments AS a JOIN session_requests AS r ON r.id = a.session_request_id "
        "JOIN routing_policies AS p ON p.id = r.routing_policy_id WHERE a.experiment_id = %s",
        (exp["id"],),
    ).fetchall()
    assert len(rows) == 3 and len({r[0] for r in rows}) == 1 and {r[1] for r in rows} == {str(world.customer)}
    arm, _, _, params, window = rows[0]
    assert window == (30 if arm == "short" else 60)
    assert params == ({"hybrid_window_seconds": 30} if arm == "short" else {})
    # the hash splits customers by the weights (deterministic: same seed, same split)
    got = conn.execute(
        "SELECT count(*) FILTER (WHERE ssr_private.experiment_hash_unit('c:' || g::text, 7) < 0.5) "
        "FROM generate_series(1, 4000) AS g"
    ).fetchone()[0]
    assert 1800 < got < 2200
    assert {r["id"] for r in reqs} == {r[0] for r in conn.execute(
        "SELECT session_request_id FROM routing_experiment_assignments")}


def test_switchback_gives_every_request_of_a_window_and_group_one_arm(conn, world):
    exp = create(conn, window_def("sb", unit="switchback", window_seconds=3600, grouping="preferred_workshop"))
    start(conn, exp["id"])
    rows = conn.execute(
        "SELECT t, w, (ssr_private.routing_assignment(NULL, %s, 'hybrid', t)).* "
        "FROM generate_series(timestamptz '2026-01-01', timestamptz '2026-01-03', interval '7 minutes') AS t, "
        "(VALUES (%s::uuid), (%s::uuid)) AS v (w)",
        (world.ws["alpha"], world.ws["alpha"], world.ws["beta"]),
    ).fetchall()
    by_unit = {}
    for _t, _w, _policy, exp_id, arm, unit_key, window_start in rows:
        assert exp_id == exp["id"]
        by_unit.setdefault((unit_key, window_start), set()).add(arm)
    assert all(len(arms) == 1 for arms in by_unit.values())
    arms = [next(iter(a)) for a in by_unit.values()]
    assert 0.25 < arms.count("short") / len(arms) < 0.75  # 98 windows x groups, randomized per window
    # reproducible: the same call gives the same schedule
    again = conn.execute(
        "SELECT (ssr_private.routing_assignment(NULL, %s, 'hybrid', t)).arm "
        "FROM generate_series(timestamptz '2026-01-01', timestamptz '2026-01-03', interval '7 minutes') AS t",
        (world.ws["alpha"],),
    ).fetchall()
    first = [r for r in rows if r[1] == world.ws["alpha"]]
    assert [a for (a,) in again] == [r[4] for r in first]


def test_routing_types_limit_enrolment(conn, world):
    exp = create(conn, window_def(routing_types=["hybrid"]))
    start(conn, exp["id"])
    b = new_request(conn, world, "broadcast", None)
    h = new_request(conn, world, "hybrid", "alpha")
    assigned = {r for (r,) in conn.execute("SELECT session_request_id FROM routing_experiment_assignments")}
    assert assigned == {h["id"]} and b["id"] not in assigned


def test_escalation_on_declines_follows_the_request_policy(conn, world):
    exp = create(conn, {
        "name": "no-escalate", "unit": "customer", "seed": 1,
        "arms": [{"name": "keep", "weight": 1.0 - 1e-9, "params": {"escalate_on_preferred_declines": False}},
                 {"name": "control", "weight": 1e-9, "control": True, "params": {}}],
    })
    start(conn, exp["id"])
    r = new_request(conn, world, "hybrid", "beta")  # beta has one available mechanic: b1
    assert conn.execute("SELECT arm FROM routing_experiment_assignments WHERE session_request_id = %s",
                        (r["id"],)).fetchone()[0] == "keep"
    with conn.transaction():
        conn.execute("SELECT set_config('app.mechanic_id', %s, TRUE)", (str(world.mech["b1"]),))
        row = conn.execute("SELECT request_status, escalated_at FROM decline_session_request(%s, %s, 'busy')",
                           (r["id"], world.mech["b1"])).fetchone()
    assert row == ("pending", None)  # the window runs to its end (the default policy escalates at once)


def test_the_rollup_counts_outcomes_per_arm_and_a_guardrail_stops_an_arm(conn, world):
    exp = create(conn, window_def(guardrails=[{"metric": "expiry_rate", "max": 0.5, "min_requests": 2}]))
    start(conn, exp["id"])
    customers = [conn.execute("INSERT INTO customers (email) VALUES (%s) RETURNING id",
                              (f"c{i}@x.example",)).fetchone()[0] for i in range(12)]
    reqs = []
    for c in customers:
        sid = new_session(conn, world, customer=c)
        reqs.append(conn.execute(
            "SELECT id FROM ssr_private.create_session_request(%s, %s, %s, NULL, %s, 'hybrid')",
            (c, world.plan, sid, world.ws["alpha"]),
        ).fetchone()[0])
    arm_of = dict(conn.execute("SELECT session_request_id, arm FROM routing_experiment_assignments").fetchall())
    assert set(arm_of.values()) == {"control", "short"}
    # every 'short' request expires; control ones are accepted
    for r in reqs:
        if arm_of[r] == "short":
            conn.execute("UPDATE session_requests SET status = 'expired', closed_at = now(), "
                         "outcome = 'expired_no_mechanic' WHERE id = %s", (r,))
        else:
            conn.execute("UPDATE session_requests SET status = 'accepted', mechanic_id = %s, "
                         "accepted_at = created_at + interval '12 seconds' WHERE id = %s", (world.mech["i1"], r))
            conn.execute("UPDATE sessions SET status = 'waiting' WHERE id = (SELECT session_id FROM session_requests "
                         "WHERE id = %s)", (r,))
    ran = conn.execute("SELECT * FROM ssr_private.refresh_experiment_results()").fetchone()
    assert ran[0] is True and ran[3] == 1  # one arm stopped
    res = {r[0]: r[1:] for r in conn.execute(
        "SELECT arm, requests, accepted, expired, median_accept_seconds, arm_stop_reason "
        "FROM analytics.experiment_results WHERE experiment_id = %s", (exp["id"],))}
    n_short = sum(1 for a in arm_of.values() if a == "short")
    assert res["short"][:3] == (n_short, 0, n_short)
    assert res["control"][:3] == (12 - n_short, 12 - n_short, 0) and res["control"][3] == 12
    assert "guardrail expiry_rate > 0.5" in res["short"][4]
    with conn.transaction():  # the BI role reads the results (views and their percentile function)
        conn.execute("SET LOCAL ROLE analytics")
        assert conn.execute("SELECT sum(requests) FROM analytics.experiment_results").fetchone()[0] == 12
        assert conn.execute("SELECT count(*) FROM analytics.experiment_windows").fetchone()[0] == 12
    state = conn.execute("SELECT state, stop_reason FROM routing_experiments WHERE id = %s", (exp["id"],)).fetchone()
    assert state == ("stopped", "every treatment arm stopped by a guardrail")
    # the rollup equals a recount: queue everything again and compare
    units = "SELECT to_jsonb(u) - 'recounted_at' FROM analytics_experiment_units AS u ORDER BY u.arm, u.unit_key"
    before = conn.execute(units).fetchall()
    conn.execute("INSERT INTO experiment_changes (session_request_id) SELECT session_request_id "
                 "FROM routing_experiment_assignments")
    conn.execute("SELECT * FROM ssr_private.refresh_experiment_results()")
    assert conn.execute(units).fetchall() == before and len(before) == 12


def test_the_worker_job_keeps_the_results_fresh_as_the_worker_login(conn, world, worker_db_url):
    from worker import jobs
    from worker.supervisor import default_jobs

    job = next(j for j in default_jobs() if j.name == "experiment_results")
    assert job.fn is jobs.refresh_experiment_results and job.interval == 5.0
    exp = create(conn, window_def())
    start(conn, exp["id"])
    reqs = [new_request(conn, world, "hybrid", "alpha")["id"] for _ in range(3)]
    assert conn.execute("SELECT count(*) FROM experiment_changes").fetchone()[0] == 3
    with psycopg.connect(worker_db_url, autocommit=True) as w:
        assert job.fn(w) == "applied 3 experiment changes"
        assert job.fn(w) is None  # nothing queued: nothing to say
    got = conn.execute("SELECT sum(requests) FROM analytics.experiment_results WHERE experiment_id = %s",
                       (exp["id"],)).fetchone()[0]
    assert got == len(reqs) and conn.execute("SELECT count(*) FROM experiment_changes").fetchone()[0] == 0


def test_deprecated_routing_settings_update_makes_a_new_default_policy(conn, world):
    conn.execute("UPDATE routing_settings SET hybrid_window_seconds = 45")
    params = conn.execute("SELECT params FROM routing_policies WHERE is_default").fetchone()[0]
    assert params["hybrid_window_seconds"] == 45
    r = new_request(conn, world, "hybrid", "alpha")
    assert (r["exclusive_until"] - r["created_at"]).total_seconds() == 45




def has_plpython(conn) -> bool:
    return conn.execute(
        "SELECT to_regprocedure('ssr_private.experiment_stats(text,jsonb)') IS NOT NULL").fetchone()[0]


def test_statistics_known_answers_by_simulation(conn):
    """400 simulated marketplaces per design with a planted effect of +0.05 on the accept rate: the
    95 % interval covers it 95 +- 3 % of the time; 400 with no effect, looked at 10 times each: the
    always-valid p-value stays under 5 % false positives while naive peeking does not."""
    if not has_plpython(conn):
        pytest.skip("the optional PL/Python layer is not installed")
    got = conn.execute(
        "SELECT ssr_private.experiment_stats('selftest', %s)",
        (json.dumps({"runs": 400, "looks": 10, "seed": 20261207}),),
    ).fetchone()[0]
    for unit in ("switchback", "customer"):
        g = got[unit]
        assert 0.92 <= g["coverage"] <= 0.98, (unit, g)
        assert g["false_positive_rate_always_valid"] <= 0.05, (unit, g)
        assert g["false_positive_rate_naive_peeking"] > 0.08, (unit, g)  # the test can tell peeking apart


def test_power_and_t_quantiles(conn):
    if not has_plpython(conn):
        pytest.skip("the optional PL/Python layer is not installed")
    mde = conn.execute("SELECT ssr_private.experiment_stats('power', '{\"sd\": 1, \"units_per_arm\": 100}')"
                       ).fetchone()[0]["mde"]
    assert abs(mde - 2.8016 * (2 / 100) ** 0.5) < 1e-3
    n = conn.execute("SELECT ssr_private.experiment_stats('power', '{\"sd\": 1, \"mde\": 0.3962}')").fetchone()[0]
    assert n["units_per_arm"] in (99, 100, 101)
    with pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT ssr_private.experiment_stats('nope', '{}')")
    assert info.value.sqlstate == "SR400"


def test_analysis_of_an_experiment_at_its_unit(conn, world):
    """A switchback experiment's units written as the rollup: the analysis gives per-window means,
    Welch interval and the unit counts, matching a hand computation."""
    if not has_plpython(conn):
        pytest.skip("the optional PL/Python layer is not installed")
    exp = create(conn, window_def("sb2", unit="switchback", window_seconds=3600, grouping="marketplace"))
    start(conn, exp["id"])
    data = {"control": [(10, 5), (10, 6), (20, 10), (8, 4)], "short": [(10, 7), (10, 8), (12, 9)]}
    for arm, units in data.items():
        for i, (n, acc) in enumerate(units):
            conn.execute(
                "INSERT INTO analytics_experiment_units VALUES (%s, %s, 'all', %s, %s, %s, 0, '{}', '{}', "
                "0, 0, 0, 0, 0, 0, 0, 0, now())",
                (exp["id"], arm, f"2026-01-01 {i + (0 if arm == 'control' else 10):02d}:00Z", n, acc),
            )
    rows = conn.execute(
        "SELECT difference, ci_low, ci_high, units_control, units_arm, p_value_always_valid "
        "FROM ssr_private.experiment_analysis(%s) WHERE metric = 'accept_rate'", (exp["id"],)
    ).fetchall()
    assert len(rows) == 1
    diff, lo, hi, nc, nt, p = rows[0]
    import statistics
    c = [a / n for n, a in data["control"]]
    t = [a / n for n, a in data["short"]]
    assert abs(diff - (statistics.mean(t) - statistics.mean(c))) < 1e-12
    se = (statistics.variance(c) / 4 + statistics.variance(t) / 3) ** 0.5
    assert lo < diff < hi and (hi - lo) / 2 > 1.96 * se  # t quantile at few units: wider than normal
    assert (nc, nt) == (4, 3) and 0 < p <= 1
    with conn.transaction():
        conn.execute("SET LOCAL ROLE analytics")
        view = conn.execute("SELECT difference FROM analytics.experiment_analysis WHERE experiment_id = %s "
                            "AND metric = 'accept_rate'", (exp["id"],)).fetchone()[0]
    assert view == diff
    page = call(conn, "SELECT get_routing_experiment(%s, %s) AS j", (SUPPORT, exp["id"]), SUPPORT)["j"]
    assert page["plpython"] is True and any(a["metric"] == "accept_rate" for a in page["analysis"])


def test_ids_are_checked(conn, world):
    refused(conn, start, 999999, sqlstate="SR404", column="experiment_id")
    with pytest.raises(psycopg.Error) as info:
        call(conn, "SELECT get_routing_experiment(%s, %s)", (SUPPORT, 999999), SUPPORT)
    assert info.value.sqlstate == "SR404"
    assert uuid.UUID(ADMIN)
