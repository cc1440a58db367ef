-- routing_settings_bridge_trg: routing_settings is deprecated (the engine reads the request's
-- routing policy). So that a DBA's old habit still does what it did, an UPDATE of its row
-- makes a new default routing policy with those values (named settings-<time>, the former
-- default stays as it was: policies never change); requests made before keep their policy.
-- No errors beyond the policy's own checks.
CREATE OR REPLACE FUNCTION ssr_private.routing_settings_bridge_trg()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS $$
BEGIN
    UPDATE routing_policies SET is_default = FALSE WHERE is_default;
    INSERT INTO routing_policies (name, description, params, is_default)
    VALUES (
        'settings-' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS'),
        'Made by an UPDATE of the deprecated routing_settings.',
        jsonb_build_object(
            'hybrid_window_seconds', NEW.hybrid_window_seconds,
            'workshop_only_wait_seconds', NEW.workshop_only_wait_seconds,
            'open_wait_seconds', NEW.open_wait_seconds
        ),
        TRUE
    );
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ssr_private.routing_settings_bridge_trg() IS
'Trigger: an UPDATE of the deprecated routing_settings makes a new default routing policy with its values.';
