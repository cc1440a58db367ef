-- ssr_private.workshop_directory_listing: the workshops the directory lists (active, with at
-- least one mechanic available now) with their ranking score, one row each, unordered.
-- get_workshop_directory pages through it in the order
--     score DESC, available_mechanics DESC, sessions_served DESC, workshop_id ASC,
-- which the partial index workshop_stats_directory_idx (migration 0154) serves.
-- Score: workshop_stats.directory_score, the Bayesian (shrunk) average of the review stars,
--     (C * m + rating_sum) / (C + review_count), rounded to 6 decimals, with m the platform's
-- mean and C the default policy's rank_prior_strength (20) as of the last snapshot
-- (ssr_private.directory_prior_refresh; docs/RANKING.md), kept by the trigger on workshop_stats.
-- Reads only workshop_stats (trigger-maintained) and organizations.
CREATE OR REPLACE VIEW ssr_private.workshop_directory_listing AS
SELECT
    ws.workshop_id,
    o.name AS workshop_name,
    o.contact_email AS workshop_email,
    o.status AS workshop_status,
    ws.total_mechanics,
    ws.available_mechanics,
    round(ws.rating_sum::numeric / nullif(ws.review_count, 0), 2) AS avg_rating,
    ws.sessions_served,
    o.created_at,
    ws.directory_score AS score
FROM workshop_stats AS ws
INNER JOIN organizations AS o ON ws.workshop_id = o.id
WHERE o.status = 'active' AND ws.available_mechanics > 0;

COMMENT ON VIEW ssr_private.workshop_directory_listing IS
'The workshops the directory lists (active, available_mechanics > 0) with their ranking score; unordered.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.workshop_id IS 'The workshop (organizations.id).';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.workshop_name IS 'Its name.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.workshop_email IS 'Its contact email.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.workshop_status IS 'Always active.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.total_mechanics IS 'Mechanics linked to it, any status.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.available_mechanics IS
'Its mechanics who can take a session now (> 0); second key of the order.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.avg_rating IS
'Mean review stars, 2 decimals; NULL without reviews.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.sessions_served IS
'Sessions it served, any status; third key of the order.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.created_at IS 'When the workshop was created.';
COMMENT ON COLUMN ssr_private.workshop_directory_listing.score IS
'Ranking score: workshop_stats.directory_score, (C * prior + rating_sum) / (C + review_count), 6 decimals; first key '
'of the order.';
