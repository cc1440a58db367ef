-- 0002: smart session routing, the columns of the design note.
-- Nullable and backwards compatible: existing requests read as 'broadcast'.

ALTER TABLE session_requests
ADD COLUMN workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
ADD COLUMN preferred_workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
ADD COLUMN routing_type text NOT NULL DEFAULT 'broadcast'
CONSTRAINT session_requests_routing_type_check
CHECK (routing_type IN ('workshop_only', 'hybrid', 'broadcast')),
ADD CONSTRAINT session_requests_routing_needs_workshop_check
CHECK (routing_type = 'broadcast' OR preferred_workshop_id IS NOT NULL);

ALTER TABLE sessions
ADD COLUMN workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
ADD COLUMN preferred_workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT;

CREATE INDEX session_requests_workshop_id_idx ON session_requests (workshop_id);
CREATE INDEX session_requests_preferred_workshop_idx ON session_requests (preferred_workshop_id);
CREATE INDEX session_requests_routing_type_idx ON session_requests (routing_type, created_at);
CREATE INDEX sessions_workshop_id_idx ON sessions (workshop_id, created_at);
CREATE INDEX sessions_preferred_workshop_idx ON sessions (preferred_workshop_id, created_at);

COMMENT ON COLUMN session_requests.workshop_id IS
'The workshop that served the request: the accepting mechanic''s workshop, set on accept (NULL for independents).';
COMMENT ON COLUMN session_requests.preferred_workshop_id IS
'The workshop the customer chose, if any.';
COMMENT ON COLUMN session_requests.routing_type IS
'workshop_only: only the preferred workshop''s mechanics; hybrid: that workshop first, then everyone; broadcast: everyone.';
COMMENT ON COLUMN sessions.workshop_id IS
'The workshop that served the session (for revenue splits); NULL for independents or while waiting.';
COMMENT ON COLUMN sessions.preferred_workshop_id IS
'The workshop the customer chose (for analytics).';
