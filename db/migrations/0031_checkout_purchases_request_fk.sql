-- 0031: the foreign key of checkout_purchases.session_request_id (0020) to session_requests,
-- in a transaction of its own (it locks session_requests SHARE ROW EXCLUSIVE, briefly).
-- NOT VALID: no scan under the lock; 0034 validates it.

ALTER TABLE checkout_purchases
ADD CONSTRAINT checkout_purchases_session_request_id_fkey
FOREIGN KEY (session_request_id) REFERENCES session_requests (id) ON DELETE SET NULL NOT VALID;
