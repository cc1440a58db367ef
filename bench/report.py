"""The printed table (Markdown, so the README can show it as is)."""

from __future__ import annotations


def _ms(d: dict | None, key: str = "p50_ms") -> str:
    if not d or key not in d:
        return "-"
    v = d[key]
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def _lat(d: dict | None) -> str:
    if not d or "p50_ms" not in d:
        return "-"
    return f"p50 {_ms(d)} ms, p99 {_ms(d, 'p99_ms')} ms"


def _n(v) -> str:
    return f"{v:,.0f}" if isinstance(v, int | float) else "-"


def _durability(r: dict) -> str:
    d = r.get("durability") or {}
    if not d:
        return "Server settings: not recorded."
    line = ", ".join(f"{k} = {d.get(k)}" for k in ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method"))
    label = "PostgreSQL's durable defaults" if d.get("durable") else "NOT DURABLE: not comparable with durable figures"
    return f"Server settings for every figure (project and pgbench alike): {line} ({label})."


def render(r: dict) -> str:
    s, f, data = r["settings"], r["figures"], r["data"]
    main = f"x{s['scale']:g}"
    sz = data.get(main, {}).get("sizes", {})
    m = r.get("machine", {})
    lines = [
        f"Scale {s['scale']:g}: {_n(sz.get('workshops'))} workshops, {_n(sz.get('mechanics'))} mechanics, "
        f"{_n(sz.get('sessions'))} past sessions with reviews; {s['clients']} clients, {s['seconds']:g} s per pgbench "
        f"run, every figure the median of {s['reps']} repetitions.",
        f"Machine: {m.get('nproc')} cores ({m.get('cpu')}), {m.get('memory')}; "
        f"{(r.get('versions', {}).get('postgres') or '').split(' on ')[0]}.",
        _durability(r),
        "",
        "| measurement | result | baseline (same run) |",
        "|---|---|---|",
    ]
    add = lines.append
    pg = f.get("pgbench") or {}
    so, tp = pg.get("select-only"), pg.get("tpcb-like")
    sel = f.get("select1")
    if so:
        add(f"| pgbench select-only, {s['clients']} clients | {_n(so['tps'])} tps, {_lat(so)} | server ceiling |")
    if tp:
        add(f"| pgbench tpcb-like, {s['clients']} clients | {_n(tp['tps'])} tps, {_lat(tp)} | server ceiling |")
    if sel:
        add(f"| `SELECT 1`, one connection (Python client) | {_lat(sel)} | latency floor |")
    tpcb = f"tpcb-like {_n(tp['tps'])} tps" if tp else "-"
    floor = f"`SELECT 1` p50 {_ms(sel)} ms" if sel else "-"
    fc = f.get("fulfill_checkout")
    if fc:
        ratio = f"{fc['ratio_to_tpcb']:.2f} x {tpcb}" if "ratio_to_tpcb" in fc else tpcb
        if "paired_tpcb_tps" in fc:
            ratio = (f"{fc['ratio_to_tpcb']:.2f} x tpcb-like, the median of {len(fc['reps'])} pairs (each repetition "
                     f"beside a tpcb-like one run just before it: {_n(fc['paired_tpcb_tps'])} tps)")
        add(f"| `fulfill_checkout`, pgbench -f, {s['clients']} clients | {_n(fc['tps'])} tps, {_lat(fc)} | {ratio} |")
        cpu1 = fc.get("cpu_one_client")
        if cpu1:
            add(f"| CPU of the server backend per transaction, one client (from /proc) | `fulfill_checkout` "
                f"{_n(cpu1['fulfill_us'])} us ({_n(cpu1['fulfill_transactions'])} calls) | tpcb-like "
                f"{_n(cpu1['tpcb_us'])} us ({_n(cpu1['tpcb_transactions'])}): ratio {cpu1['ratio']:.2f} |")
    ac = f.get("accept_contention")
    if ac:
        add(f"| accept: {int(ac['racers'])} mechanics racing on each of {_n(ac['requests_total'])} requests, "
            f"statistics as left by {_n(ac.get('pending_requests_before'))} new pending requests | "
            f"{_n(ac['accepts_per_s'])} accepts/s, {_lat(ac)}; one winner each: yes | {tpcb} |")
        aa = ac.get("after_analyze")
        if aa:
            add(f"| accept: the same after `ANALYZE session_requests` ({_n(aa['requests_total'])} requests) | "
                f"{_n(aa['accepts_per_s'])} accepts/s, {_lat(aa)}; one winner each: yes | {tpcb} |")
    cc = f.get("capacity_cost")
    if cc:
        sh, wo, ra = cc["shipped"], cc["without_capacity"], cc["ratio"]
        flag = " !! REGRESSION" if cc.get("regression") else ""
        add(f"| accept with capacity in the rule ({cc['racers']} racers, {_n(sh['accept'].get('requests'))} requests "
            f"a repetition) | {_n(sh['accept']['accepts_per_s'])} accepts/s, {_lat(sh['accept'])}; "
            f"x{ra['accept_p50']:.2f} p50, x{ra['accept_throughput']:.2f} time per accept{flag} | "
            f"rule without capacity: {_n(wo['accept']['accepts_per_s'])} accepts/s, {_lat(wo['accept'])} |")
        add(f"| `get_mechanic_offers` with capacity in the rule ({cc['offer_readers']} mechanics below capacity) | "
            f"{_lat(sh['offers'])}; x{ra['offers_p50']:.2f} p50{flag} | rule without capacity: {_lat(wo['offers'])} |")
    ni = f.get("note_indexes")
    if ni:
        add(f"| `fulfill_checkout` with the design note's sessions indexes as shipped (partial, composite) | "
            f"{_n(ni['shipped']['tps'])} tps, {_n(ni['shipped']['wal_bytes_per_tx'])} WAL bytes/tx; "
            f"x{ni['ratio']['shipped']:.2f} | without them: {_n(ni['none']['tps'])} tps, "
            f"{_n(ni['none']['wal_bytes_per_tx'])} B/tx |")
        add(f"| the same with the note's original one-column indexes | {_n(ni['one_column']['tps'])} tps, "
            f"{_n(ni['one_column']['wal_bytes_per_tx'])} WAL bytes/tx; x{ni['ratio']['one_column']:.2f} | "
            f"without them: {_n(ni['none']['tps'])} tps |")
    for scale_key, rt in sorted((f.get("routing") or {}).items(), key=lambda kv: kv[0] != main):
        if scale_key != main or not rt:
            continue
        for strat, d in rt.items():
            add(f"| `get_mechanics_for_routing` {strat} ({_n(d.get('rows'))} rows) | {_lat(d)} | {floor} |")
    of = f.get("mechanic_offers")
    if of:
        add(f"| `get_mechanic_offers` (limit 50, {_n(of['pending_requests'])} pending requests) | {_lat(of)} | {floor} |")
    dr = (f.get("directory") or {}).get(main)
    if dr:
        add(f"| `get_workshop_directory` first page (20 of {_n(dr['listed_workshops'])}) | {_lat(dr['first_page'])} "
            f"| {floor} |")
        how = "keyset, starting after row" if dr["deep_page"].get("keyset") else "offset"
        add(f"| `get_workshop_directory` deep page ({how} {_n(dr['deep_page']['offset'])}) | {_lat(dr['deep_page'])} "
            f"| {floor} |")
        if dr.get("deep_page_offset"):
            add(f"| `get_workshop_directory` deep page by offset {_n(dr['deep_page_offset']['offset'])} (compatibility; "
                f"cost grows with the offset) | {_lat(dr['deep_page_offset'])} | {floor} |")
    an = f.get("analytics") or {}
    if an:
        ri = an.get("refresh_idle")
        if ri:
            add(f"| `ssr_private.refresh_analytics()` with nothing queued (the worker's job, every 5 s) | {_lat(ri)} | {floor} |")
        for label, d in (an.get("reads") or {}).items():
            add(f"| {label} ({_n(d.get('rows'))} rows) | {_lat(d)} | {floor} |")
        pe = an.get("percentile_error")
        if pe:
            add(f"| histogram percentiles vs exact `percentile_cont`, {_n(pe['workshop_months'])} workshop-months "
                f"({_n(pe['accepted_requests'])} accepted requests) | median max {pe['median_max_rel_error'] * 100:.2f} % "
                f"(mean {pe['median_mean_rel_error'] * 100:.3f} %), p90 max {pe['p90_max_rel_error'] * 100:.2f} % "
                f"(mean {pe['p90_mean_rel_error'] * 100:.3f} %) relative | exact recount |")
    fr = f.get("analytics_freshness")
    if fr:
        add(f"| BI data age while `fulfill_checkout` runs ({fr['seconds']:g} s, {_n(fr['fulfill_tps'])} tps), job every "
            f"{fr['interval_s']:g} s | max {fr['max_data_age_s']} s (p50 {fr['p50_data_age_s']} s); job p50 {fr['job_p50_s']} s, "
            f"max {fr['job_max_s']} s, up to {_n(fr['changes_per_run_max'])} changes a run; BI reads during: "
            f"{_lat(fr.get('bi_reads_during'))}; views equal a recount: yes | goal: at most 60 s |")
    py = f.get("plpython")
    if py:
        for lang in ("sql", "plpgsql", "plpython"):
            d = py.get(lang)
            if d:
                add(f"| {lang} function `a * 2 + b`: per call in a 1,000-row set / one call | "
                    f"{d['per_call_in_set_us']:.2f} us / {_lat(d)} | {floor} |")
        er = py.get("explain_routing") or {}
        if "p50_ms" in er:
            sq = er.get("sql_equivalent")
            add(f"| `explain_routing` ({er.get('language')}, {_n(er.get('rows'))} rows) | {_lat(er)} | "
                f"same rows in plain SQL p50 {_ms(sq)} ms; {floor} |")
    e2 = f.get("e2e_webhooks")
    if e2:
        bh = e2.get("baseline_healthz") or {}
        base = (f"same gunicorn and client on `GET /healthz` (no database, no Stripe): {_n(bh.get('requests_per_s'))} "
                f"requests/s, {_lat(bh)}; ratio {e2.get('ratio_to_baseline', 0):.2f} (median of the "
                f"repetitions' pairs)" if bh else tpcb)
        add(f"| webhooks end to end: gunicorn ({e2['gunicorn_workers']} workers) + Stripe fake, {s['clients']} "
            f"clients, {_n(e2['deliveries'])} deliveries (10 % duplicates) | {_n(e2['events_per_s'])} deliveries/s, "
            f"{_lat(e2)}; one session per event: yes | {base} |")
        bd = e2.get("breakdown") or {}
        if bd:
            add(f"| a webhook's parts, each alone (p50): signature + JSON {_ms(bd['verify_and_parse'])} ms; Stripe "
                f"re-fetch {_ms(bd['stripe_refetch_keepalive'])} ms on a kept-alive connection, "
                f"{_ms(bd['stripe_refetch_new_connection'])} ms on a new one; `handle_checkout_event` "
                f"{_ms(bd['db_handle_checkout_event'])} ms | {_n(e2.get('stripe_connections'))} connections to the fake "
                f"for {_n(e2.get('stripe_retrievals'))} re-fetches | - |")
        if bd.get("stripe_refetch_typed_object"):
            add(f"| the same re-fetch through the typed `v1.checkout.sessions.retrieve(...).to_dict()` (p50) | "
                f"{_ms(bd['stripe_refetch_typed_object'])} ms | `raw_request`, as the app: "
                f"{_ms(bd['stripe_refetch_keepalive'])} ms |")
        cw, ch = e2.get("cpu_ms_per_delivery") or {}, bh.get("cpu_ms_per_request") or {}
        if cw and ch:
            def parts(d):
                return (f"app (gunicorn) {d.get('app', 0):.2f}, database {d.get('database', 0):.2f}, "
                        f"Stripe fake + client {d.get('stripe_fake_and_client', 0):.2f}; total {d['total']:.2f}")
            add(f"| CPU ms per webhook delivery, by process (2 cores) | {parts(cw)} | per `/healthz` request: "
                f"{parts(ch)} |")
    lv = f.get("live_offers")
    if lv:
        add(f"| live offers: paid webhook -> `created` event at each of {_n(lv['clients'])} connected SSE clients "
            f"(gunicorn {lv['gunicorn_workers']} {lv['worker_class']} workers, {_n(lv['deliveries'])} deliveries) | "
            f"{_lat(lv)}; first client p50 {_ms(lv, 'first_client_p50_ms')} ms; every client every event: yes | "
            f"directory API {_lat(lv['api_alone'])} alone, {_lat(lv['api_with_streams'])} with the streams open |")
    bl = f.get("bulk_load")
    if bl:
        add(f"| bulk insert of {_n(bl['rows'])} sessions + requests + reviews, row triggers and FK checks on | "
            f"{_n(bl['with_triggers']['sessions_per_s'])} sessions/s | without (replica, as the generator): "
            f"{_n(bl['replica_no_triggers']['sessions_per_s'])} sessions/s, {bl['slowdown']:.1f}x |")
    # Growth with data size.
    scales = [f"x{x:g}" for x in s["scales"]]
    rows = []
    for strat in ("workshop_only", "hybrid", "broadcast"):
        vals = [((f.get("routing") or {}).get(k) or {}).get(strat) for k in scales]
        rows.append((f"`get_mechanics_for_routing` {strat}", vals))
    for key, label in (("hybrid_first", "hybrid first page (50)"), ("broadcast_first", "broadcast first page (50)"),
                       ("hybrid_deep", "hybrid page at ~90% (keyset)")):
        vals = [((f.get("routing_page") or {}).get(k) or {}).get(key) for k in scales]
        rows.append((f"`get_mechanics_for_routing_page` {label}", vals))
    for page, label in (("first_page", "first page"), ("deep_page", "deep page (keyset, ~90%)"),
                        ("deep_page_offset", "deep page by offset (~90%)")):
        vals = [((f.get("directory") or {}).get(k) or {}).get(page) for k in scales]
        if page == "deep_page_offset" and not any(vals):
            continue
        rows.append((f"`get_workshop_directory` {label}", vals))
    vals = [(f.get("offers_by_scale") or {}).get(k) for k in scales]
    rows.append(("`get_mechanic_offers` (limit 50)", vals))
    if any(any(v for v in vals) for _, vals in rows):
        lines += ["", "Latency as the data grows (p50 ms; sessions: "
                  + ", ".join(f"{k} = {_n((data.get(k) or {}).get('sizes', {}).get('sessions'))}" for k in scales) + ")",
                  "", "| query | " + " | ".join(scales) + f" | growth {scales[0]} -> {scales[-1]} |",
                  "|---|" + "---|" * (len(scales) + 1)]
        for label, vals in rows:
            cells = [_ms(v) + (f" ({_n(v['rows'])} rows)" if v and "mechanics_for" in label and "rows" in v else "")
                     + (f" ({_n(v['pending_requests'])} pending)" if v and "offers" in label else "")
                     for v in vals]
            growth = "-"
            have = [v for v in vals if v and v.get("p50_ms")]
            if len(have) >= 2 and have[-1] is vals[-1]:
                growth = f"{have[-1]['p50_ms'] / have[0]['p50_ms']:.1f}x"
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {growth} |")
    gen = []
    for k in scales:
        d = data.get(k) or {}
        gen.append(f"{k}: {'reused' if d.get('reused') else str(d.get('seconds', '-')) + ' s'}")
    lines += render_steady(r)
    lines += ["", "Data generation: " + ", ".join(gen) + f". Total run: {r.get('total_seconds', 0):.0f} s."]
    if r.get("skipped"):
        lines.append("Skipped: " + "; ".join(f"{k}: {v}" for k, v in r["skipped"].items()))
    return "\n".join(lines)


# ---------------------------------------------------------------- the steady state (bench/steady.py)

def _waits(w: dict | None) -> str:
    if not w or not w.get("samples"):
        return "-"
    return ", ".join(f"{t['event']} {t['share'] * 100:.0f} %" for t in w["top"])


def _per_tx(d: dict | None, key: str, fmt: str = "{:,.0f}") -> str:
    v = (d or {}).get(key)
    return fmt.format(v) if isinstance(v, int | float) else "-"


def steady_phases(f: dict) -> list[tuple[str, dict]]:
    """Every observed phase of the run: (label, figures with per-transaction costs and waits)."""
    out = []
    fc = (f.get("fulfill_curve") or {}).get("clients") or {}
    ac = (f.get("accept_curve") or {}).get("clients") or {}
    for n in sorted({*fc, *ac}, key=int):
        if n in fc:
            out.append((f"tpcb-like, {n} clients", fc[n]["tpcb"]))
            out.append((f"fulfill_checkout, {n} clients", fc[n]["fulfill"]))
        if n in ac:
            out.append((f"accept, {n} racers", ac[n]))
    e2 = f.get("e2e_webhooks") or {}
    if e2.get("observed"):
        out.append(("webhooks, the app", e2["observed"]))
    ref = e2.get("reference") or {}
    if ref.get("observed"):
        out.append(("webhooks, the reference handler", ref["observed"]))
    return out


def render_steady(r: dict) -> list[str]:
    f = r["figures"]
    lines: list[str] = []
    fc = (f.get("fulfill_curve") or {}).get("clients") or {}
    ac = (f.get("accept_curve") or {}).get("clients") or {}
    if fc or ac:
        warm = (f.get("fulfill_curve") or {}).get("warmup_s") or r["settings"].get("warmup_s")
        lines += ["", f"Concurrency curve (each phase after {warm:g} s of the same workload unmeasured; fulfillment with "
                      "the relay beside it from a drained outbox; pgbench scale "
                      f"{(f.get('fulfill_curve') or {}).get('pgbench_scale', '-')})",
                  "", "| clients | tpcb-like | `fulfill_checkout` | fulfill / tpcb-like | accept race (calls/s = "
                      "transactions; accepts/s = requests decided) |", "|---|---|---|---|---|"]
        for n in sorted({*fc, *ac}, key=int):
            p, a = fc.get(n), ac.get(n)
            t = f"{_n(p['tpcb']['tps'])} tps, {_lat(p['tpcb'])}" if p else "-"
            fu = f"{_n(p['fulfill']['tps'])} tps, {_lat(p['fulfill'])}" if p else "-"
            ra = f"{p['ratio']:.2f} x" if p else "-"
            acc = (f"{_n(a['calls_per_s'])} calls/s ({_n(a['accepts_per_s'])} accepts/s), {_lat(a)}"
                   + (f"; x{a['calls_ratio_to_tpcb']:.2f} of tpcb-like" if "calls_ratio_to_tpcb" in a else "")
                   if a else "-")
            lines.append(f"| {n} | {t} | {fu} | {ra} | {acc} |")
    phases = steady_phases(f)
    if phases:
        lines += ["", "Per transaction, and wait events of the server backends (pg_stat_activity every "
                      f"{r['settings'].get('wait_sample_interval_s', 0.01) * 1000:g} ms; share of samples, top five)",
                  "", "| phase | WAL bytes/tx | full-page images/tx | commits/tx | write transactions/tx | samples | "
                      "wait events |", "|---|---|---|---|---|---|---|"]
        for label, d in phases:
            lines.append(f"| {label} | {_per_tx(d, 'wal_bytes_per_tx')} | {_per_tx(d, 'fpi_per_tx', '{:.2f}')} | "
                         f"{_per_tx(d, 'commits_per_tx', '{:.2f}')} | {_per_tx(d, 'write_xacts_per_tx', '{:.2f}')} | "
                         f"{_n((d.get('waits') or {}).get('samples'))} | {_waits(d.get('waits'))} |")
    lines += render_reference(f.get("e2e_webhooks") or {})
    from bench import goals

    lines += goals.render(r.get("goals") or [])
    return lines


def render_reference(e2: dict) -> list[str]:
    ref = e2.get("reference")
    if not ref:
        return []
    lines = ["", "Webhooks against the minimal correct handler (bench/reference_webhook.py: signature, re-fetch, one "
                 "`INSERT ... ON CONFLICT DO NOTHING`; same gunicorn settings, client, Stripe fake and deliveries)",
             "", "| handler | deliveries/s | latency | CPU ms per delivery (app, database, fake + client) |",
             "|---|---|---|---|"]
    for label, d in (("the app", e2), ("the reference", ref)):
        c = d.get("cpu_ms_per_delivery") or {}
        cpu = (f"{c.get('app', 0):.2f}, {c.get('database', 0):.2f}, {c.get('stripe_fake_and_client', 0):.2f}; "
               f"total {c['total']:.2f}" if c else "-")
        lines.append(f"| {label} | {_n(d.get('events_per_s'))} | {_lat(d)} | {cpu} |")
    lines.append(f"| app / reference (median of the pairs) | x{ref['rate_ratio']:.2f} | p99 x{ref['p99_ratio']:.2f} | - |")
    prof = ref.get("profile")
    if prof and prof.get("parts"):
        lines += ["", f"Where the app's extra time goes: one gunicorn worker each, one client, "
                      f"{_n(prof.get('requests'))} deliveries after a warm-up, cProfile per request (wall time; the "
                      "profiler's overhead inflates Python-heavy parts)", "",
                  "| part (inclusive wall ms per delivery) | the app | the reference | extra |", "|---|---|---|---|"]
        for p in prof["parts"]:
            lines.append(f"| {p['part']} | {p['app_ms']:.3f} | {p['reference_ms']:.3f} | {p['extra_ms']:+.3f} |")
        top = prof.get("app_top_own_time") or []
        if top:
            lines += ["", "The app's top functions by own time (ms per delivery, profiled):", "",
                      "| function | own ms | calls per delivery |", "|---|---|---|"]
            for t in top:
                lines.append(f"| `{t['function']}` | {t['own_ms']:.3f} | {t['calls']:.1f} |")
    return lines
