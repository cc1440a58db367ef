-- Optional: the periodic jobs scheduled inside Postgres with pg_cron (Debian
-- postgresql-15-cron, 1.4: minute granularity). Not applied by tools/migrate.py.
-- Needs, in postgresql.conf: shared_preload_libraries = 'pg_cron' (a restart) and
-- cron.database_name = the database pg_cron keeps its jobs in (default postgres).
-- Run as a superuser in that database, naming the marketplace database:
--     psql -X -d postgres -v ssr_db=marketplace -f db/optional/pg_cron.sql
-- Inputs: psql variable ssr_db (the database the jobs run in). Errors: pg_cron not preloaded
-- (CREATE EXTENSION fails: "unrecognized configuration parameter" / "can only be loaded
-- via shared_preload_libraries"); ssr_db unset (psql: the variable is not substituted).
-- Safe to run again: the three jobs are replaced by name.
-- Jobs (cron.job, database ssr_db, as the user running this script):
--   ssr_sweep_session_requests  every minute   ssr_private.sweep_session_requests(): hybrid escalation and
--                                               expiry. With minute granularity a hybrid request
--                                               escalates up to ~60 s after its 60 s window and
--                                               expires up to ~60 s late; tools/sweeper.py (every
--                                               5 s) stays needed where that delay matters.
--   ssr_refresh_analytics       every minute   ssr_private.refresh_analytics(): applies the queued changes to
--                                               the rollups the BI views read (BI data up to
--                                               ~1 min old; tools/sweeper.py does it every 5 s).
--   (ssr_private.routing_outbox_relay() is not scheduled here: notifications need it every 100 ms, which
--   tools/sweeper.py and the app's live hub do.)
--   ssr_outbox_prune            daily, 03:17   ssr_private.routing_outbox_prune(): outbox rows > 7 days.
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS pg_cron;

SELECT cron.unschedule(j.jobid)
FROM cron.job AS j
WHERE j.jobname IN ('ssr_sweep_session_requests', 'ssr_refresh_analytics', 'ssr_outbox_prune');

SELECT cron.schedule_in_database(
    'ssr_sweep_session_requests', '* * * * *', 'SELECT * FROM ssr_private.sweep_session_requests()', :'ssr_db'
);
SELECT cron.schedule_in_database(
    'ssr_refresh_analytics', '* * * * *', 'SELECT * FROM ssr_private.refresh_analytics()', :'ssr_db'
);
SELECT cron.schedule_in_database(
    'ssr_outbox_prune', '17 3 * * *', 'SELECT ssr_private.routing_outbox_prune()', :'ssr_db'
);
