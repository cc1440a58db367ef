-- ssr:no-transaction
-- 0131: validates the foreign keys 0130 added NOT VALID. VALIDATE CONSTRAINT scans each table
-- under a SHARE UPDATE EXCLUSIVE lock, which blocks no reader and no writer; each statement
-- commits on its own, and running the file again validates nothing twice.

ALTER TABLE session_requests VALIDATE CONSTRAINT session_requests_routing_policy_id_fkey;
ALTER TABLE organizations VALIDATE CONSTRAINT organizations_routing_policy_id_fkey;
