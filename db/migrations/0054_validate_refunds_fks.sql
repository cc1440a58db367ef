-- ssr:no-transaction
-- 0054: validates the foreign keys 0052 and 0053 added NOT VALID. VALIDATE CONSTRAINT scans
-- refunds under a SHARE UPDATE EXCLUSIVE lock (ROW SHARE on the referenced table), which
-- blocks no reader and no writer; each statement commits on its own, and running the file
-- again validates nothing twice.

ALTER TABLE refunds VALIDATE CONSTRAINT refunds_session_id_fkey;
ALTER TABLE refunds VALIDATE CONSTRAINT refunds_session_request_id_fkey;
