-- ssr:no-transaction
-- 0031: validates the constraints 0002 and 0010 added NOT VALID. VALIDATE CONSTRAINT scans
-- the table under a SHARE UPDATE EXCLUSIVE lock (a ROW SHARE lock on the referenced table
-- for a foreign key), which blocks no reader and no writer. Rows written since the
-- constraint was added were already checked. Each statement commits on its own; running
-- the file again validates nothing twice (a valid constraint is skipped).

ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_workshop_id_fkey;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_preferred_workshop_id_fkey;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_routing_type_check;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_routing_needs_workshop_check;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_intake_id_fkey;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_outcome_check;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_outcome_status_check;
ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_window_only_hybrid_check;
ALTER TABLE sessions VALIDATE CONSTRAINT sessions_workshop_id_fkey;
ALTER TABLE sessions VALIDATE CONSTRAINT sessions_preferred_workshop_id_fkey;
