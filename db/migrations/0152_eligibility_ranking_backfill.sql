-- ssr:after-objects
-- 0152: once the functions of 0150 exist: time zones checked on write (constraints NOT
-- VALID, then validated: the columns are new, so the validation reads NULLs only), and the
-- ranking's rollups counted from the history already there (offers, reviews, sessions;
-- ssr_private.ranking_rebuild, which also scores every mechanic). Safe to run again.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'mechanics_time_zone_check') THEN
        ALTER TABLE mechanics ADD CONSTRAINT mechanics_time_zone_check
        CHECK (ssr_private.valid_time_zone(time_zone)) NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'organizations_time_zone_check') THEN
        ALTER TABLE organizations ADD CONSTRAINT organizations_time_zone_check
        CHECK (ssr_private.valid_time_zone(time_zone)) NOT VALID;
    END IF;
END
$$;

ALTER TABLE mechanics VALIDATE CONSTRAINT mechanics_time_zone_check;
ALTER TABLE organizations VALIDATE CONSTRAINT organizations_time_zone_check;

SELECT ssr_private.ranking_rebuild();
