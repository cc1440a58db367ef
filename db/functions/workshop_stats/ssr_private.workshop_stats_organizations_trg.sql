-- workshop_stats: every new organization gets its (zero) aggregates row.
-- Deleting an organization deletes its row (ON DELETE CASCADE).
CREATE OR REPLACE FUNCTION ssr_private.workshop_stats_organizations_trg()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
BEGIN
    INSERT INTO workshop_stats (workshop_id) VALUES (NEW.id)
    ON CONFLICT (workshop_id) DO NOTHING;
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION ssr_private.workshop_stats_organizations_trg() FROM PUBLIC;
