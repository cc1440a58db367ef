-- 0030: per-workshop aggregates for the workshop directory.
-- One row per workshop, kept exact by the triggers in db/triggers/workshop_stats_*.sql
-- (row-level deltas: UPDATE ... SET x = x + delta), so the directory never
-- aggregates the history of sessions and reviews on a call.
-- The rows are filled from the data already there by 0032, once those triggers exist
-- (online: one workshop per transaction). workshop_stats_rebuild() recomputes every row
-- from scratch (repair after TRUNCATE or bulk loads done with triggers disabled).

CREATE TABLE workshop_stats (
    workshop_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE ON UPDATE CASCADE,
    total_mechanics integer NOT NULL DEFAULT 0 CHECK (total_mechanics >= 0),
    active_mechanics integer NOT NULL DEFAULT 0 CHECK (active_mechanics >= 0),
    available_mechanics integer NOT NULL DEFAULT 0 CHECK (available_mechanics >= 0),
    sessions_served bigint NOT NULL DEFAULT 0 CHECK (sessions_served >= 0),
    review_count bigint NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    rating_sum bigint NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    CHECK (available_mechanics <= active_mechanics AND active_mechanics <= total_mechanics),
    CHECK (rating_sum BETWEEN review_count AND 5 * review_count)
);
COMMENT ON TABLE workshop_stats IS
'Per-workshop aggregates maintained by triggers on organizations, mechanics, sessions and reviews; '
'read by get_workshop_directory. Recompute with workshop_stats_rebuild().';
COMMENT ON COLUMN workshop_stats.workshop_id IS 'The workshop (organizations.id); one row per organization.';
COMMENT ON COLUMN workshop_stats.total_mechanics IS 'Mechanics linked to the workshop, any status.';
COMMENT ON COLUMN workshop_stats.active_mechanics IS 'Linked mechanics with status active.';
COMMENT ON COLUMN workshop_stats.available_mechanics IS
'Linked mechanics with status active and is_available: those who can take a session now.';
COMMENT ON COLUMN workshop_stats.sessions_served IS 'Sessions with sessions.workshop_id = this workshop, any status.';
COMMENT ON COLUMN workshop_stats.review_count IS 'Reviews of the sessions this workshop served.';
COMMENT ON COLUMN workshop_stats.rating_sum IS 'Sum of the stars of those reviews (average = rating_sum / review_count).';

-- The read-only role of BI tools. Roles are cluster-wide: create it only if missing.
-- It gets SELECT on the analytics views (granted next to each view in db/views/,
-- because views are created after the migrations) and nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics') THEN
        CREATE ROLE analytics NOLOGIN;
        COMMENT ON ROLE analytics IS
        'Read-only role of BI tools: SELECT on the analytics views only (workshop_session_analytics, '
        'routing_effectiveness and their _mv variants).';
        -- Defence in depth for a login granted later: its sessions start read-only.
        ALTER ROLE analytics SET default_transaction_read_only = TRUE;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created concurrently by a migration of another database of the cluster
END
$$;
-- Never any table privilege for the role, nor for PUBLIC on the aggregates.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM analytics;
REVOKE ALL ON workshop_stats FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
