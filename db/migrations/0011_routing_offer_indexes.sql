-- 0011: indexes that give get_mechanic_offers its candidate sets in (created_at, id) order,
-- one per kind, so each set stops after `limit` rows however many requests are pending and
-- whatever the planner's statistics say (a burst of requests leaves them stale; measured by
-- make bench). They replace the general pending index of 0001, which nothing else reads.

DROP INDEX session_requests_pending_idx;

DROP INDEX session_requests_pending_preferred_idx;
CREATE INDEX session_requests_pending_preferred_idx
ON session_requests (preferred_workshop_id, created_at, id)
WHERE status = 'pending';

CREATE INDEX session_requests_pending_broadcast_idx
ON session_requests (created_at, id)
WHERE status = 'pending' AND routing_type = 'broadcast';

CREATE INDEX session_requests_pending_hybrid_idx
ON session_requests (created_at, id)
WHERE status = 'pending' AND routing_type = 'hybrid';
