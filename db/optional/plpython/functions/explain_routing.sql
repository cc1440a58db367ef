-- explain_routing: the audit trail of one request, in order, with one readable sentence
-- per step (PL/Python: it only formats; the facts are the routing_events rows).
-- SR400 without a request id, SR404 for an unknown request.
CREATE OR REPLACE FUNCTION explain_routing(p_request_id uuid)
RETURNS TABLE (
    step integer,
    event_id bigint,
    created_at timestamptz,
    event_type text,
    mechanic_id uuid,
    workshop_id uuid,
    detail jsonb,
    narrative text
)
LANGUAGE plpython3u
STABLE
AS $$
import json

if p_request_id is None:
    plpy.error("request_id is required", sqlstate="SR400", column_name="request_id")

req_plan = plpy.prepare("SELECT 1 FROM public.session_requests WHERE id = $1", ["uuid"])
if not plpy.execute(req_plan, [p_request_id]):
    plpy.error("request_id %s: no such session request" % p_request_id, sqlstate="SR404", column_name="request_id")

ev_plan = plpy.prepare(
    "SELECT e.id, e.created_at::text AS created_at, e.event_type, e.mechanic_id::text AS mechanic_id, "
    "e.workshop_id::text AS workshop_id, e.detail::text AS detail, m.name AS mechanic_name, o.name AS workshop_name "
    "FROM public.routing_events AS e "
    "LEFT JOIN public.mechanics AS m ON m.id = e.mechanic_id "
    "LEFT JOIN public.organizations AS o ON o.id = e.workshop_id "
    "WHERE e.request_id = $1 ORDER BY e.id",
    ["uuid"],
)

def ws(name, wid):
    if wid is None:
        return "no workshop"
    return "workshop %s" % (name or wid)

def sentence(ev, d):
    t = ev["event_type"]
    if t == "created":
        s = "Created with routing %s" % d.get("routing_type")
        if ev["workshop_id"]:
            s += " for %s" % ws(ev["workshop_name"], ev["workshop_id"])
        s += ": %s eligible mechanic(s) available" % d.get("candidate_count")
        if ev["workshop_id"] and d.get("routing_type") != "workshop_only":
            s += ", %s of them in the preferred workshop" % d.get("preferred_candidate_count")
        if d.get("exclusive_until"):
            s += "; exclusive to the preferred workshop until %s" % d["exclusive_until"]
        s += "; expires at %s" % d["expires_at"] if d.get("expires_at") else "; never expires"
        return s + "."
    if t == "window_skipped":
        reasons = {
            "no_available_mechanic_in_preferred_workshop": "the preferred workshop had nobody available",
            "window_disabled": "the hybrid window is set to 0 seconds",
        }
        return "Exclusive window skipped: %s." % reasons.get(d.get("reason"), d.get("reason"))
    if t == "offered":
        if d.get("audience") == "workshop":
            s = "Offered to the %s mechanic(s) of %s" % (d.get("candidate_count"), ws(ev["workshop_name"], ev["workshop_id"]))
            if d.get("until"):
                s += " until %s" % d["until"]
            return s + "."
        return "Offered to every eligible mechanic (%s available)." % d.get("candidate_count")
    if t == "declined":
        who = ev["mechanic_name"] or ev["mechanic_id"]
        s = "Declined by %s (%s) after %.0f s" % (who, ws(ev["workshop_name"], ev["workshop_id"]) if ev["workshop_id"] else "independent", float(d.get("seconds_to_decline") or 0))
        return s + (": " + d["reason"] if d.get("reason") else "") + "."
    if t == "escalated" and d.get("reason") == "preferred_workshop_declined":
        return "Every available mechanic of the preferred workshop declined: window cut short at %s, escalated to everyone (%s eligible mechanic(s) available)." % (
            d.get("escalated_at"), d.get("candidate_count"))
    if t == "expired" and d.get("reason") == "all_declined":
        return "Expired: every available mechanic of the workshop declined; outcome %s, refund due." % d.get("outcome")
    if t == "escalated" and d.get("reason") == "preferred_workshop_unavailable":
        return "Nobody of the preferred workshop was available any more: window cut short at %s, escalated to everyone (%s eligible mechanic(s) available)." % (
            d.get("escalated_at"), d.get("candidate_count"))
    if t == "escalated":
        return "Exclusive window ended at %s with nobody accepting: escalated to everyone (%s eligible mechanic(s) available)." % (
            d.get("exclusive_until"), d.get("candidate_count"))
    if t == "accepted":
        who = ev["mechanic_name"] or ev["mechanic_id"]
        if ev["workshop_id"] is None:
            of = "an independent mechanic"
        elif d.get("served_by_preferred_workshop"):
            of = "of the preferred %s" % ws(ev["workshop_name"], ev["workshop_id"])
        else:
            of = "of %s" % ws(ev["workshop_name"], ev["workshop_id"])
        s = "Accepted by %s (%s) after %.0f s" % (who, of, float(d.get("wait_seconds") or 0))
        if d.get("inside_window"):
            s += ", inside the exclusive window"
        return s + "."
    if t == "expired":
        return "Expired (deadline %s): nobody accepted in time; outcome %s, refund due." % (d.get("expires_at"), d.get("outcome"))
    if t == "cancelled":
        return "Cancelled%s." % (": " + d["reason"] if d.get("reason") else "")
    return t

out = []
for n, ev in enumerate(plpy.execute(ev_plan, [p_request_id]), start=1):
    d = json.loads(ev["detail"])
    out.append({
        "step": n,
        "event_id": ev["id"],
        "created_at": ev["created_at"],
        "event_type": ev["event_type"],
        "mechanic_id": ev["mechanic_id"],
        "workshop_id": ev["workshop_id"],
        "detail": ev["detail"],
        "narrative": sentence(ev, d),
    })
return out
$$;

COMMENT ON FUNCTION explain_routing(uuid) IS
'The routing events of a request in order, each with a readable narrative; SR404 for an unknown request.';
