-- Every trigger on routing_settings, in firing order (deprecated table: see
-- ssr_private.routing_settings_bridge_trg).

-- An UPDATE makes a new default routing policy with the row's values.
CREATE OR REPLACE TRIGGER routing_settings_bridge
AFTER UPDATE ON routing_settings
FOR EACH ROW
WHEN (
    (old.hybrid_window_seconds, old.workshop_only_wait_seconds, old.open_wait_seconds)
    IS DISTINCT FROM (new.hybrid_window_seconds, new.workshop_only_wait_seconds, new.open_wait_seconds)
)
EXECUTE FUNCTION ssr_private.routing_settings_bridge_trg();
