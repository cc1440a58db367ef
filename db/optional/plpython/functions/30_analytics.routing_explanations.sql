-- analytics.routing_explanations: for staff (role analytics), the story of each session
-- request told by its routing events, one sentence per step in order
-- (ssr_private.routing_event_narrative, the sentences of ssr_private.explain_routing).
-- Part of the optional PL/Python layer: absent where PL/Python is. The view reads the
-- tables with its owner's rights; analytics executes only the formatter, which reads
-- nothing. No inputs, no errors.
CREATE OR REPLACE VIEW analytics.routing_explanations AS
SELECT
    e.request_id AS session_request_id,
    string_agg(
        ssr_private.routing_event_narrative(e.event_type, e.mechanic_id, e.workshop_id, m.name, o.name, e.detail),
        E'\n' ORDER BY e.id
    ) AS narrative
FROM public.routing_events AS e
LEFT JOIN public.mechanics AS m ON e.mechanic_id = m.id
LEFT JOIN public.organizations AS o ON e.workshop_id = o.id
GROUP BY e.request_id;

COMMENT ON VIEW analytics.routing_explanations IS
'The routing story of each session request: one sentence per routing event, in order (optional PL/Python layer).';
COMMENT ON COLUMN analytics.routing_explanations.session_request_id IS 'The session request.';
COMMENT ON COLUMN analytics.routing_explanations.narrative IS
'Its routing events as readable sentences, one line each, oldest first.';
GRANT SELECT ON analytics.routing_explanations TO analytics;
