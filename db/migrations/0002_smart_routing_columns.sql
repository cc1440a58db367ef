-- 0002: smart session routing, the columns of the design note on session_requests
-- (sessions: 0003; one busy table per transaction, see tools/migrate.py).
-- Nullable and backwards compatible: existing requests read as 'broadcast'.
-- Online-safe on tables holding millions of rows: adding the columns changes the catalog
-- only (a constant default rewrites nothing); the foreign keys and CHECKs are added
-- NOT VALID (no scan while the lock is held) and validated by 0034, which blocks no
-- writer; the indexes are built CONCURRENTLY by 0011.

ALTER TABLE session_requests
ADD COLUMN workshop_id uuid,
ADD COLUMN preferred_workshop_id uuid,
ADD COLUMN routing_type text NOT NULL DEFAULT 'broadcast',
ADD CONSTRAINT session_requests_workshop_id_fkey
FOREIGN KEY (workshop_id) REFERENCES organizations (id) ON DELETE RESTRICT NOT VALID,
ADD CONSTRAINT session_requests_preferred_workshop_id_fkey
FOREIGN KEY (preferred_workshop_id) REFERENCES organizations (id) ON DELETE RESTRICT NOT VALID,
ADD CONSTRAINT session_requests_routing_type_check
CHECK (routing_type IN ('workshop_only', 'hybrid', 'broadcast')) NOT VALID,
ADD CONSTRAINT session_requests_routing_needs_workshop_check
CHECK (routing_type = 'broadcast' OR preferred_workshop_id IS NOT NULL) NOT VALID;

COMMENT ON COLUMN session_requests.workshop_id IS
'The workshop that served the request: the accepting mechanic''s workshop, set on accept (NULL for independents).';
COMMENT ON COLUMN session_requests.preferred_workshop_id IS
'The workshop the customer chose, if any.';
COMMENT ON COLUMN session_requests.routing_type IS
'workshop_only: only the preferred workshop''s mechanics; hybrid: that workshop first, then everyone; broadcast: everyone.';
