-- ssr_private.bi_logins_not_read_only: the check a DBA (and the tests) run for the BI logins.
-- ALTER ROLE ... SET applies to the role a session logs in as, never to the roles it is a
-- member of: ALTER ROLE analytics (or ssr_bi) SET default_transaction_read_only does not make
-- the sessions of a login granted that role read-only. This lists every role that can log in
-- and is a member (directly or through other roles) of analytics, with its problem:
--   'not read-only by default'  no default_transaction_read_only = on for the role (for all
--                               databases, or for this one; a setting for this database wins);
--   'member of <role>'          it is also a member of a role that writes or acts for someone
--                               (ssr_app, ssr_payments, ssr_worker, mechanic, customer).
-- Superusers are left out (members of every role, and no login of BI). Empty: every BI login
-- is as intended. The setting is a default, which a session may change: what keeps a BI login
-- from writing is that analytics holds no write privilege and executes nothing that writes
-- (db/tests/grants.sql); this check keeps the defence in depth and the separation true.
-- Owner only (ssr_private). No errors.
CREATE OR REPLACE FUNCTION ssr_private.bi_logins_not_read_only()
RETURNS TABLE (login name, problem text)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH RECURSIVE
members (member) AS (
    SELECT a.member FROM pg_auth_members AS a WHERE a.roleid = 'analytics'::regrole
    UNION
    SELECT a.member FROM pg_auth_members AS a INNER JOIN members AS m ON a.roleid = m.member
),
bi AS (
    SELECT r.oid, r.rolname
    FROM pg_roles AS r
    WHERE r.rolcanlogin AND NOT r.rolsuper AND (r.oid = 'analytics'::regrole OR r.oid IN (SELECT member FROM members))
)
SELECT bi.rolname, 'not read-only by default'
FROM bi
WHERE coalesce((
    SELECT lower(split_part(c.setting, '=', 2)) IN ('on', 'true', 'yes', '1')
    FROM pg_db_role_setting AS s
    CROSS JOIN LATERAL unnest(s.setconfig) AS c (setting)
    WHERE
        s.setrole = bi.oid
        AND s.setdatabase IN (0, (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database()))
        AND c.setting LIKE 'default\_transaction\_read\_only=%'
    ORDER BY s.setdatabase DESC
    LIMIT 1
), FALSE) IS NOT TRUE
UNION ALL
SELECT bi.rolname, 'member of ' || w.rolname
FROM bi
INNER JOIN pg_roles AS w ON w.rolname IN ('ssr_app', 'ssr_payments', 'ssr_worker', 'mechanic', 'customer')
WHERE pg_has_role(bi.oid, w.oid, 'MEMBER')
ORDER BY 1, 2
$$;

COMMENT ON FUNCTION ssr_private.bi_logins_not_read_only() IS
'Roles that can log in, are members of analytics and either are not read-only by default or are also members of a '
'role that writes; empty when every BI login is as intended.';
