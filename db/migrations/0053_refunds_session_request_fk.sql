-- 0053: the foreign key of refunds.session_request_id (0050) to session_requests, in a
-- transaction of its own (it locks session_requests SHARE ROW EXCLUSIVE, briefly). NOT
-- VALID: no scan under the lock; 0054 validates it.

ALTER TABLE refunds
ADD CONSTRAINT refunds_session_request_id_fkey
FOREIGN KEY (session_request_id) REFERENCES session_requests (id) ON DELETE RESTRICT NOT VALID;
