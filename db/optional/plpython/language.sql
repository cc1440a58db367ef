-- The optional PL/Python layer: the language itself. Applied by tools/migrate.py only
-- where plpython3u is installed in the database or available on the server and the
-- migrating role may create it (a superuser); --skip-plpython leaves the layer out.
-- Managed services (RDS, Cloud SQL, Supabase) do not offer plpython3u: the core does not
-- need it. No errors when the runner applies it (it checks first).
CREATE EXTENSION IF NOT EXISTS plpython3u;
