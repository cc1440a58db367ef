-- 0070: the size of the workshop directory, kept in the one-row routing_candidates (0060).
-- listed_workshops counts the workshops get_workshop_directory lists (status active and
-- available_mechanics > 0). It lives in the row the counting triggers already update: a
-- workshop's listed state flips only when one of its mechanics becomes (un)available or its
-- status changes, and each of those already adds to routing_candidates.eligible_mechanics
-- in the same transaction, so the count costs no extra row lock (see the triggers). Filled
-- here from workshop_stats (kept exact by the triggers of 0030) under a SHARE lock, and
-- recounted by 0072 once the new triggers exist. Inputs: none. Errors: none of its own.

LOCK TABLE workshop_stats, organizations IN SHARE MODE;

ALTER TABLE routing_candidates ADD COLUMN listed_workshops integer NOT NULL DEFAULT 0;

COMMENT ON COLUMN routing_candidates.listed_workshops IS
'Workshops the directory lists now (active, available_mechanics > 0): the total of get_workshop_directory.';

UPDATE routing_candidates
SET listed_workshops = (
    SELECT count(*)::integer
    FROM workshop_stats AS ws
    INNER JOIN organizations AS o ON ws.workshop_id = o.id
    WHERE o.status = 'active' AND ws.available_mechanics > 0
);
