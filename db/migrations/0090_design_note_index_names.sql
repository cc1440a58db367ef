-- 0090: the indexes carry the names the design note gives them, which a DBA checks a release
-- against (session_requests_workshop_id_idx, session_requests_preferred_workshop_idx,
-- sessions_workshop_id_idx, sessions_preferred_workshop_idx; session_requests_routing_type_idx
-- kept its name). The indexes are the same: the composite, partial forms of 0063 and 0066 serve
-- every lookup by the column (an equality on the leading column, which implies IS NOT NULL),
-- and cost fulfillment no index entry for the rows that have no workshop yet (make bench,
-- note_indexes, prices both forms). ALTER INDEX ... RENAME takes SHARE UPDATE EXCLUSIVE: reads
-- and writes of the tables go on; the runner's short lock_timeout bounds the wait for it. No
-- query names an index (the planner picks them), so the renames break no client.

-- squawk-ignore renaming-object
ALTER INDEX IF EXISTS session_requests_workshop_set_idx RENAME TO session_requests_workshop_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX IF EXISTS session_requests_preferred_set_idx RENAME TO session_requests_preferred_workshop_idx;

-- squawk-ignore renaming-object
ALTER INDEX IF EXISTS sessions_workshop_set_idx RENAME TO sessions_workshop_id_idx;

-- squawk-ignore renaming-object
ALTER INDEX IF EXISTS sessions_preferred_set_idx RENAME TO sessions_preferred_workshop_idx;

COMMENT ON INDEX session_requests_workshop_id_idx IS
'The design note''s workshop lookup: (workshop_id, created_at) for the requests a workshop served, '
'partial (no entry until accept sets workshop_id); serves every lookup by workshop_id alone.';

COMMENT ON INDEX session_requests_preferred_workshop_idx IS
'The design note''s routing-preference index: (preferred_workshop_id, created_at), partial '
'(broadcast requests without a preference are not indexed); serves every lookup by the column alone.';

COMMENT ON INDEX session_requests_routing_type_idx IS
'The design note''s strategy filter: (routing_type, created_at).';

COMMENT ON INDEX sessions_workshop_id_idx IS
'The design note''s session analytics index: (workshop_id, created_at), partial (no entry until '
'accept sets workshop_id); serves every lookup by workshop_id alone.';

COMMENT ON INDEX sessions_preferred_workshop_idx IS
'The design note''s customer-preference index: (preferred_workshop_id, created_at), partial; '
'serves every lookup by the column alone.';
