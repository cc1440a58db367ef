-- 0003: smart session routing, the columns of the design note on sessions: the workshop
-- that served the session and the one the customer preferred. Nullable, backwards
-- compatible. Online-safe like 0002: catalog-only columns, foreign keys NOT VALID
-- (validated by 0034), indexes built CONCURRENTLY by 0011. A transaction of its own: the
-- application writes sessions and session_requests in either order, so one transaction
-- locking both would wait in a cycle with it.

ALTER TABLE sessions
ADD COLUMN workshop_id uuid,
ADD COLUMN preferred_workshop_id uuid,
ADD CONSTRAINT sessions_workshop_id_fkey
FOREIGN KEY (workshop_id) REFERENCES organizations (id) ON DELETE RESTRICT NOT VALID,
ADD CONSTRAINT sessions_preferred_workshop_id_fkey
FOREIGN KEY (preferred_workshop_id) REFERENCES organizations (id) ON DELETE RESTRICT NOT VALID;

COMMENT ON COLUMN sessions.workshop_id IS
'The workshop that served the session (for revenue splits); NULL for independents or while waiting.';
COMMENT ON COLUMN sessions.preferred_workshop_id IS
'The workshop the customer chose (for analytics).';
