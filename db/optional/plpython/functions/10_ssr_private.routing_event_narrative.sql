-- ssr_private.routing_event_narrative: one readable sentence for one routing_events row
-- (PL/Python: it only formats; the facts are the row's). Inputs: the event's type,
-- mechanic and workshop (ids and names, NULL when none) and its detail. Covers every
-- event type of routing_events (its CHECK constraint) and every reason the engine writes
-- (window_skipped: window_disabled, no_available_mechanic_in_preferred_workshop,
-- preferred_workshop_at_capacity; escalated: preferred_workshop_declined,
-- preferred_workshop_unavailable, window_passed; expired: all_declined or none; declined
-- and cancelled: the free text given); a test enumerates both from the schema. Reads no
-- table and is SECURITY INVOKER, so the role analytics may run it for the view
-- analytics.routing_explanations. No errors. The files of this folder are applied in
-- file-name order: the number in front orders the dependencies.
CREATE OR REPLACE FUNCTION ssr_private.routing_event_narrative(
    p_event_type text,
    p_mechanic_id uuid,
    p_workshop_id uuid,
    p_mechanic_name text,
    p_workshop_name text,
    p_detail jsonb
) RETURNS text
LANGUAGE plpython3u
IMMUTABLE
AS $$
import json

d = json.loads(p_detail) if p_detail else {}
t = p_event_type

def ws(name, wid):
    if wid is None:
        return "no workshop"
    return "workshop %s" % (name or wid)

WINDOW_SKIPPED = {
    "no_available_mechanic_in_preferred_workshop": "the preferred workshop had nobody available",
    "window_disabled": "the hybrid window is set to 0 seconds",
    "preferred_workshop_at_capacity": "every available mechanic of the preferred workshop was at capacity",
}

if t == "created":
    s = "Created with routing %s" % d.get("routing_type")
    if p_workshop_id:
        s += " for %s" % ws(p_workshop_name, p_workshop_id)
    s += ": %s eligible mechanic(s) available" % d.get("candidate_count")
    if p_workshop_id and d.get("routing_type") != "workshop_only":
        s += ", %s of them in the preferred workshop" % d.get("preferred_candidate_count")
    if d.get("exclusive_until"):
        s += "; exclusive to the preferred workshop until %s" % d["exclusive_until"]
    s += "; expires at %s" % d["expires_at"] if d.get("expires_at") else "; never expires"
    return s + "."
if t == "window_skipped":
    return "Exclusive window skipped: %s." % WINDOW_SKIPPED.get(d.get("reason"), d.get("reason"))
if t == "offered":
    if d.get("audience") == "workshop":
        s = "Offered to the %s mechanic(s) of %s" % (d.get("candidate_count"), ws(p_workshop_name, p_workshop_id))
        if d.get("until"):
            s += " until %s" % d["until"]
        return s + "."
    return "Offered to every eligible mechanic (%s available)." % d.get("candidate_count")
if t == "declined":
    who = p_mechanic_name or p_mechanic_id
    s = "Declined by %s (%s) after %.0f s" % (
        who, ws(p_workshop_name, p_workshop_id) if p_workshop_id else "independent",
        float(d.get("seconds_to_decline") or 0))
    return s + (": " + d["reason"] if d.get("reason") else "") + "."
if t == "escalated" and d.get("reason") == "preferred_workshop_declined":
    return ("Every available mechanic of the preferred workshop declined: window cut short at %s, escalated to "
            "everyone (%s eligible mechanic(s) available)." % (d.get("escalated_at"), d.get("candidate_count")))
if t == "expired" and d.get("reason") == "all_declined":
    return "Expired: every available mechanic of the workshop declined; outcome %s, refund due." % d.get("outcome")
if t == "escalated" and d.get("reason") == "preferred_workshop_unavailable":
    return ("Nobody of the preferred workshop was available any more: window cut short at %s, escalated to "
            "everyone (%s eligible mechanic(s) available)." % (d.get("escalated_at"), d.get("candidate_count")))
if t == "escalated":
    return ("Exclusive window ended at %s with nobody accepting: escalated to everyone (%s eligible mechanic(s) "
            "available)." % (d.get("exclusive_until"), d.get("candidate_count")))
if t == "accepted":
    who = p_mechanic_name or p_mechanic_id
    if p_workshop_id is None:
        of = "an independent mechanic"
    elif d.get("served_by_preferred_workshop"):
        of = "of the preferred %s" % ws(p_workshop_name, p_workshop_id)
    else:
        of = "of %s" % ws(p_workshop_name, p_workshop_id)
    s = "Accepted by %s (%s) after %.0f s" % (who, of, float(d.get("wait_seconds") or 0))
    if d.get("inside_window"):
        s += ", inside the exclusive window"
    return s + "."
if t == "expired":
    return "Expired (deadline %s): nobody accepted in time; outcome %s, refund due." % (d.get("expires_at"), d.get("outcome"))
if t == "cancelled":
    return "Cancelled%s." % (": " + d["reason"] if d.get("reason") else "")
return t
$$;

COMMENT ON FUNCTION ssr_private.routing_event_narrative(text, uuid, uuid, text, text, jsonb) IS
'One readable sentence for one routing event (every event type and engine reason); reads no table.';
