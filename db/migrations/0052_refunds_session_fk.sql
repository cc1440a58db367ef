-- 0052: the foreign key of refunds.session_id (0050) to sessions, in a transaction of its
-- own (it locks sessions SHARE ROW EXCLUSIVE, briefly). NOT VALID: no scan under the
-- lock; 0054 validates it.

ALTER TABLE refunds
ADD CONSTRAINT refunds_session_id_fkey
FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE RESTRICT NOT VALID;
