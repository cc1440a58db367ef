-- ssr:no-transaction
-- 0034: validates the constraints 0002, 0003, 0010 and 0031 added NOT VALID. VALIDATE CONSTRAINT scans
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
ALTER TABLE checkout_purchases VALIDATE CONSTRAINT checkout_purchases_session_request_id_fkey;
