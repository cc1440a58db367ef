"""The staff experiments pages through the WSGI stack: the list (arms, state, guardrails, results),
one experiment with its 95 % intervals as a server-rendered SVG chart, and the admin's Start / Stop
forms (CSRF, 303 back with the outcome). The database decides who may: a support member reads but
cannot start or stop (its SR403 is the 403 page, nothing changes), a customer's token is refused."""

from __future__ import annotations

import json
import re

import pytest

from tests.app.conftest import ALICE, auth, documented_codes
from tests.app.test_pages import csrf_of, signed_in

SAM = "44444444-4444-4444-8444-000000000001"  # demo admin
SUE = "44444444-4444-4444-8444-000000000002"  # demo support
HTML = {"Accept": "text/html"}


def as_staff(db, staff, sql, params):
    with db.transaction():
        db.execute("SELECT set_config('app.staff_id', %s, TRUE)", (staff,))
        return db.execute(sql, params).fetchone()


def define(db, name, unit="switchback", param=("hybrid_window_seconds", 30)):
    extra = {"window_seconds": 3600, "grouping": "marketplace"} if unit == "switchback" else {}
    return as_staff(db, SAM, "SELECT id FROM create_routing_experiment(%s, %s)", (SAM, json.dumps({
        "name": name, "description": "Shorter hybrid window", "unit": unit, "seed": 42, **extra,
        "guardrails": [{"metric": "expiry_rate", "max": 0.15, "min_requests": 200}],
        "arms": [{"name": "control", "weight": 0.5, "control": True, "params": {}},
                 {"name": "short", "weight": 0.5, "params": dict([param])}]})))[0]


def with_results(db, exp_id):
    """Started, with 40 one-hour windows of rolled-up outcomes (20 per arm): the short window
    accepts more (17.95 against 17.05 of 20 requests a window)."""
    as_staff(db, SAM, "SELECT id FROM start_routing_experiment(%s, %s)", (SAM, exp_id))
    db.execute(
        "INSERT INTO analytics_experiment_units (experiment_id, arm, unit_key, window_start, requests, accepted, "
        "accept_seconds_sum, accept_buckets, accept_counts, expired, cancelled, refunds, refunded_minor, completed, "
        "no_show, review_count, rating_sum) "
        "SELECT %s, CASE WHEN g %% 2 = 0 THEN 'control' ELSE 'short' END, 'all', to_timestamp(g * 3600), 20, "
        "16 + g %% 3 + g %% 2, 640, '{40}', ARRAY[16 + g %% 3 + g %% 2], 4 - g %% 3 - g %% 2, 0, g %% 2, 500 * (g %% 2), "
        "10, 1, 5, 20 FROM generate_series(1, 40) AS g", (exp_id,))


def state(db, exp_id):
    return db.execute("SELECT state, stop_reason FROM routing_experiments WHERE id = %s", (exp_id,)).fetchone()


def documented(resp, rule, method="GET"):
    assert str(resp.status_code) in documented_codes(rule, method), (rule, resp.status_code)
    return resp


@pytest.fixture
def experiments(db):
    running = define(db, "window-30s")
    with_results(db, running)
    draft = define(db, "window-draft", unit="customer", param=("workshop_only_wait_seconds", 300))
    return running, draft


def test_the_list_and_one_experiment_with_its_intervals_chart(app, db, experiments):
    running, draft = experiments
    c = app.test_client()
    page = documented(c.get("/staff/experiments/", headers=auth(SAM, "staff") | HTML), "/staff/experiments/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    cards = re.findall(r'data-experiment-id="(\d+)"', body)
    assert cards == [str(draft), str(running)]  # newest first
    assert "window-30s" in body and "state-running" in body and "state-draft" in body
    assert "expiry_rate ≤ 0.15 (after 200 requests)" in body and "hybrid_window_seconds = 30" in body
    listed = as_staff(db, SAM, "SELECT get_routing_experiments(%s)", (SAM,))[0]
    rates = [a["accept_rate"] for a in listed[1]["arms"]]
    assert rates[0] < rates[1]  # the short window accepts more
    for rate in rates:  # the arms' accept rates, as the database computed them
        assert f"<td>{rate * 100:.1f} %</td>" in body

    page = c.get(f"/staff/experiments/{running}", headers=auth(SAM, "staff") | HTML)
    body = documented(page, "/staff/experiments/{experiment_id}").get_data(as_text=True)
    assert page.status_code == 200
    assert "<script" not in body and "style=" not in body  # the CSP allows neither inline
    chart = re.search(r'<svg class="intervals".*?</svg>', body, re.S)
    assert chart, body[:2000]
    rows = re.findall(r'<g class="row tone-(\w+)" data-metric="([^"]+)"', chart.group(0))
    analysed = as_staff(db, SAM, "SELECT get_routing_experiment(%s, %s)", (SAM, running))[0]["analysis"]
    assert len(rows) == len(analysed) == 8
    # Accept rate: +4.5 points, its 95 % interval clear of 0 (a ci bar and a point), as the table says.
    accept = next(a for a in analysed if a["metric"] == "accept_rate")
    assert accept["ci_low"] > 0
    assert ("clear", "Accept rate") in rows
    assert f"{accept['difference'] * 100:+.1f} pp" == "+4.5 pp" and "+4.5 pp" in chart.group(0)
    assert chart.group(0).count('class="ci"') == 8 and chart.group(0).count('class="point"') == 8
    assert 'id="stop"' in body and 'id="start"' not in body
    assert "experiment started" in body  # the audit

    draft_page = c.get(f"/staff/experiments/{draft}", headers=auth(SAM, "staff") | HTML).get_data(as_text=True)
    assert 'id="start"' in draft_page and "No results to analyse yet" in draft_page
    for bad in ("999999", "abc", "0", "99999999999999999999"):
        r = documented(c.get(f"/staff/experiments/{bad}", headers=auth(SAM, "staff") | HTML),
                       "/staff/experiments/{experiment_id}")
        assert r.status_code == 404 and "no such experiment" in r.get_data(as_text=True)


def test_an_admin_starts_and_stops_with_the_forms(app, db, experiments):
    running, draft = experiments
    c, _ = signed_in(app, SAM, "staff")
    page = c.get(f"/staff/experiments/{draft}")
    assert page.status_code == 200
    csrf = csrf_of(page)
    rule = "/staff/experiments/{experiment_id}/start"
    assert documented(c.post(f"/staff/experiments/{draft}/start"), rule, "POST").status_code == 403  # no CSRF token
    assert state(db, draft)[0] == "draft"
    r = documented(c.post(f"/staff/experiments/{draft}/start", data={"csrf_token": csrf}), rule, "POST")
    assert r.status_code == 303 and r.headers["Location"] == f"/staff/experiments/{draft}"
    assert state(db, draft)[0] == "running"
    assert "Started" in c.get(r.headers["Location"]).get_data(as_text=True)
    # Again: the database's SR409, shown on the page, never a 5xx.
    r = c.post(f"/staff/experiments/{draft}/start", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert "Refused: experiment &#39;window-draft&#39; is running: only a draft starts" in c.get(
        r.headers["Location"]).get_data(as_text=True)
    # Stop with a reason; too long a reason is the database's SR400, nothing changes.
    stop_rule = "/staff/experiments/{experiment_id}/stop"
    r = documented(c.post(f"/staff/experiments/{running}/stop", data={"csrf_token": csrf, "reason": "x" * 501}),
                   stop_rule, "POST")
    assert r.status_code == 303 and state(db, running)[0] == "running"
    assert "at most 500 characters" in c.get(r.headers["Location"]).get_data(as_text=True)
    r = c.post(f"/staff/experiments/{running}/stop", data={"csrf_token": csrf, "reason": "enough data"})
    assert r.status_code == 303 and state(db, running) == ("stopped", "enough data")
    assert "Stopped" in c.get(r.headers["Location"]).get_data(as_text=True)


def test_support_reads_but_cannot_start_or_stop_and_others_are_refused(app, db, experiments):
    running, draft = experiments
    c, _ = signed_in(app, SUE, "staff")
    page = c.get(f"/staff/experiments/{draft}")
    assert page.status_code == 200  # support may read
    csrf = csrf_of(page)
    for exp_id, action in ((draft, "start"), (running, "stop")):
        r = documented(c.post(f"/staff/experiments/{exp_id}/{action}", data={"csrf_token": csrf}),
                       f"/staff/experiments/{{experiment_id}}/{action}", "POST")
        assert r.status_code == 403 and r.mimetype == "text/html"
        assert "admin" in r.get_data(as_text=True)  # the database's SR403 message
    assert state(db, draft)[0] == "draft" and state(db, running)[0] == "running"

    anon = app.test_client()
    for who, role in ((ALICE, "customer"), ("44444444-4444-4444-8444-0000000000ff", "staff")):
        for url in ("/staff/experiments/", f"/staff/experiments/{running}"):
            r = anon.get(url, headers=auth(who, role) | HTML)
            assert r.status_code == 403, (who, url, r.status_code)
        r = anon.post(f"/staff/experiments/{running}/stop", headers=auth(who, role) | HTML)
        assert r.status_code == 403
    assert state(db, running)[0] == "running"
    r = anon.get("/staff/experiments/", headers=HTML)
    assert r.status_code == 303 and r.headers["Location"].startswith("/account/sign-in?next=")
