-- 0042: a mechanic declines a request offered to them; it is never offered to them again.
-- session_request_declines is the record (audit, analytics); session_requests.declined_by
-- is its copy on the request row, kept by the trigger routing_declines_copy, so offers,
-- accept and the mechanic policy test a decline on the row they already read. A constant
-- default: no rewrite. Locks session_requests (not sessions), mechanics and organizations
-- (the new table's foreign keys).

ALTER TABLE session_requests
ADD COLUMN declined_by uuid[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN session_requests.declined_by IS
'Mechanics who declined the request (copy of session_request_declines, kept by a trigger): never offered to them again.';

CREATE TABLE session_request_declines (
    request_id uuid NOT NULL REFERENCES session_requests (id) ON DELETE CASCADE,
    mechanic_id uuid NOT NULL REFERENCES mechanics (id) ON DELETE RESTRICT,
    workshop_id uuid REFERENCES organizations (id) ON DELETE RESTRICT,
    offered_at timestamptz NOT NULL,
    declined_at timestamptz NOT NULL DEFAULT now(),
    reason text CHECK (reason IS NULL OR length(reason) <= 500),
    PRIMARY KEY (request_id, mechanic_id),
    CHECK (declined_at >= offered_at)
);
CREATE INDEX session_request_declines_mechanic_idx ON session_request_declines (mechanic_id, declined_at);
CREATE INDEX session_request_declines_workshop_idx ON session_request_declines (workshop_id, declined_at);

COMMENT ON TABLE session_request_declines IS
'A mechanic declined a session request offered to them (decline_session_request): it is never offered to them again.';
COMMENT ON COLUMN session_request_declines.request_id IS 'The declined session request.';
COMMENT ON COLUMN session_request_declines.mechanic_id IS 'The mechanic who declined (one decline per mechanic and request).';
COMMENT ON COLUMN session_request_declines.workshop_id IS
'The mechanic''s workshop when they declined; NULL for independents.';
COMMENT ON COLUMN session_request_declines.offered_at IS
'When the request became offered to that mechanic''s audience: its creation, or for an outsider of a hybrid request '
'the end of the exclusive window.';
COMMENT ON COLUMN session_request_declines.declined_at IS 'When the mechanic declined.';
COMMENT ON COLUMN session_request_declines.reason IS 'Optional free text of the mechanic (at most 500 characters).';
