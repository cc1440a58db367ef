-- BI contract: the dispatcher's offers like TaskRouter's statistics, per workshop (the
-- offered mechanic's; NULL: independents), per UTC day of the offer and per stage
-- (window: inside a hybrid request's exclusive window; wave: a targeted wave of the
-- staggered or round_robin modes; open: the open stage, where the row is written when the
-- mechanic answers, so "created" there counts answers, not views). Counts by outcome
-- (live: not answered yet), time to accept (from the request's creation: the customer's
-- wait; and from the offer), and accepted_within: accepted offers whose wait was at most
-- each threshold of offer_wait_thresholds (seconds -> count; a table, so BI may change the
-- buckets without a migration), like TaskRouter's split_by_wait_time.
-- A view over offers (no rollup): a day's rows are a range of the index offers_day_brin,
-- so a filter on day reads that day's offers only (make bench: figures in bench/README.md).
CREATE OR REPLACE VIEW analytics.offer_statistics AS
SELECT
    g.workshop_id,
    g.day,
    g.stage,
    g.offers_created,
    g.accepted,
    g.declined,
    g.timed_out,
    g.rescinded,
    g.live,
    round(g.accepted::numeric / nullif(g.offers_created - g.live, 0), 4) AS accept_rate,
    g.avg_wait_to_accept_seconds,
    g.avg_offer_to_accept_seconds,
    (
        SELECT
            coalesce(
                jsonb_object_agg(
                    t.seconds::text,
                    (SELECT count(*) FROM unnest(g.waits) AS w (s) WHERE w.s <= t.seconds)
                    ORDER BY t.seconds
                ),
                '{}'
            )
        FROM offer_wait_thresholds AS t
    ) AS accepted_within
FROM (
    SELECT
        o.workshop_id,
        (o.offered_at AT TIME ZONE 'UTC')::date AS day,
        coalesce(o.stage, 'open') AS stage,
        count(*) AS offers_created,
        count(*) FILTER (WHERE o.outcome = 'accepted') AS accepted,
        count(*) FILTER (WHERE o.outcome = 'declined') AS declined,
        count(*) FILTER (WHERE o.outcome = 'timed_out') AS timed_out,
        count(*) FILTER (WHERE o.outcome = 'rescinded') AS rescinded,
        count(*) FILTER (WHERE o.outcome IS NULL) AS live,
        round(avg(extract(EPOCH FROM o.outcome_at - r.created_at)) FILTER (WHERE o.outcome = 'accepted'), 3)
            AS avg_wait_to_accept_seconds,
        round(avg(extract(EPOCH FROM o.outcome_at - o.offered_at)) FILTER (WHERE o.outcome = 'accepted'), 3)
            AS avg_offer_to_accept_seconds,
        array_agg(extract(EPOCH FROM o.outcome_at - r.created_at)) FILTER (WHERE o.outcome = 'accepted') AS waits
    FROM offers AS o
    INNER JOIN session_requests AS r ON o.session_request_id = r.id
    GROUP BY o.workshop_id, (o.offered_at AT TIME ZONE 'UTC')::date, coalesce(o.stage, 'open')
) AS g;

COMMENT ON VIEW analytics.offer_statistics IS
'Offers per workshop, UTC day and stage: created, accepted, declined, timed out, rescinded, live; time to accept and '
'accepted within each threshold of offer_wait_thresholds.';
COMMENT ON COLUMN analytics.offer_statistics.workshop_id IS 'The offered mechanic''s workshop (NULL: independents).';
COMMENT ON COLUMN analytics.offer_statistics.day IS 'UTC day the offer was made.';
COMMENT ON COLUMN analytics.offer_statistics.stage IS
'window (hybrid exclusive window), wave (targeted wave), open (written when the mechanic answered).';
COMMENT ON COLUMN analytics.offer_statistics.offers_created IS 'Offers made (open stage: answers recorded).';
COMMENT ON COLUMN analytics.offer_statistics.accepted IS 'Offers accepted.';
COMMENT ON COLUMN analytics.offer_statistics.declined IS 'Offers declined by the mechanic.';
COMMENT ON COLUMN analytics.offer_statistics.timed_out IS 'Offers not answered in time.';
COMMENT ON COLUMN analytics.offer_statistics.rescinded IS
'Offers withdrawn: the request was taken by someone else, expired or cancelled, or the mechanic went away.';
COMMENT ON COLUMN analytics.offer_statistics.live IS 'Offers not answered yet.';
COMMENT ON COLUMN analytics.offer_statistics.accept_rate IS 'accepted / offers that ended (NULL when none ended).';
COMMENT ON COLUMN analytics.offer_statistics.avg_wait_to_accept_seconds IS
'Mean seconds from the request''s creation to the accept (the customer''s wait).';
COMMENT ON COLUMN analytics.offer_statistics.avg_offer_to_accept_seconds IS
'Mean seconds from the offer to the accept (the mechanic''s answer time).';
COMMENT ON COLUMN analytics.offer_statistics.accepted_within IS
'{"<threshold seconds>": accepted offers whose wait was at most that} for each row of offer_wait_thresholds.';

GRANT SELECT ON analytics.offer_statistics TO analytics;
