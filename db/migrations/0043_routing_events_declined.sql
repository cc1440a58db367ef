-- 0043: the audit trail records declines (event 'declined', by mechanic_id). The event type
-- CHECK is replaced NOT VALID (no scan under the lock), validated by 0045. Only
-- routing_events is locked.

-- Widening a CHECK drops the narrower one in the same transaction: no client relied on a status
-- being absent, and the new CHECK holds every row the old one did.
ALTER TABLE routing_events
-- squawk-ignore ban-drop-constraint
DROP CONSTRAINT routing_events_event_type_check,
ADD CONSTRAINT routing_events_event_type_check CHECK (
    event_type IN (
        'created', 'window_skipped', 'offered', 'declined', 'escalated', 'accepted', 'expired', 'cancelled'
    )
) NOT VALID;
COMMENT ON COLUMN routing_events.event_type IS
'created (strategy, candidate counts), window_skipped (hybrid without window), offered (audience: workshop or everyone), '
'declined (by mechanic_id), escalated (hybrid window passed or cut short, reason in detail), accepted, expired, cancelled.';
COMMENT ON COLUMN routing_events.mechanic_id IS 'accepted / declined: the mechanic who did it; NULL otherwise.';
