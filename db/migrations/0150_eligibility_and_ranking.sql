-- 0150: eligibility (working hours, skills, priority, the returning customer's mechanic) and
-- the ranking's reliability rollups ([RANKING.md](../../docs/RANKING.md)).
--   * working_hours / hours_overrides: weekly hours of a mechanic (or of a workshop, for its
--     mechanics without hours of their own) in the IANA time zone of mechanics.time_zone
--     (else organizations.time_zone, else UTC), and dated overrides (a holiday: closed; or
--     special hours). No hours at all: always in hours (the behaviour before this release).
--   * mechanics.hours_scheduled / in_hours: whether hours apply to the mechanic, and whether
--     they are in hours, kept by the hours triggers and the worker's job hours (which flips
--     in_hours at the boundaries so the counting triggers fire).
--   * mechanics.skills, intakes.required_skills, session_requests.required_skills and
--     skills_relax_at: what a request needs, until the relax time.
--   * customers.priority_tier and session_requests.priority: priority customers first.
--   * session_requests.returning_mechanic_id / returning_until: the customer's previous
--     mechanic's short exclusive window.
--   * mechanic_reliability, mechanic_reliability_days, mechanic_response_days,
--     ranking_platform: the rollups of the rank score, kept by triggers on offers, reviews and
--     sessions.
-- Online: new tables; nullable columns without default, or a constant default (no rewrite).

ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS time_zone text;
ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS skills text[];
ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS hours_scheduled boolean NOT NULL DEFAULT FALSE;
ALTER TABLE mechanics ADD COLUMN IF NOT EXISTS in_hours boolean NOT NULL DEFAULT TRUE;
COMMENT ON COLUMN mechanics.time_zone IS
'IANA time zone of the mechanic''s working hours; NULL: their workshop''s, else UTC.';
COMMENT ON COLUMN mechanics.skills IS
'What the mechanic can do (lower-case tags: make:toyota, ev, lang:de, ...); NULL: none declared.';
COMMENT ON COLUMN mechanics.hours_scheduled IS
'TRUE when working hours or overrides apply to the mechanic (their own or their workshop''s); FALSE: always in hours.';
COMMENT ON COLUMN mechanics.in_hours IS
'In working hours at the last refresh (ssr_private.hours_refresh); what the maintained counts follow.';

ALTER TABLE organizations ADD COLUMN IF NOT EXISTS time_zone text;
COMMENT ON COLUMN organizations.time_zone IS
'IANA time zone of the workshop''s working hours (and of its mechanics without one); NULL: UTC.';

ALTER TABLE customers ADD COLUMN IF NOT EXISTS priority_tier smallint;
COMMENT ON COLUMN customers.priority_tier IS
'Priority customer tier (1 and up are served first, higher first); NULL or 0: normal.';

ALTER TABLE intakes ADD COLUMN IF NOT EXISTS required_skills text[];
COMMENT ON COLUMN intakes.required_skills IS
'Skills the customer''s problem needs (tags as mechanics.skills); copied to the request.';

ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS required_skills text[];
ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS skills_relax_at timestamptz;
ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS priority smallint;
ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS returning_mechanic_id uuid;
ALTER TABLE session_requests ADD COLUMN IF NOT EXISTS returning_until timestamptz;
COMMENT ON COLUMN session_requests.required_skills IS
'Skills a mechanic needs to be offered the request, until skills_relax_at; NULL: none.';
COMMENT ON COLUMN session_requests.skills_relax_at IS
'From then on required_skills no longer restrict who is offered it (skills_relax_seconds); NULL: never.';
COMMENT ON COLUMN session_requests.priority IS
'The customer''s priority tier when requested (served first, higher first); NULL: normal.';
COMMENT ON COLUMN session_requests.returning_mechanic_id IS
'The mechanic of the customer''s last completed session, offered it alone until returning_until.';
COMMENT ON COLUMN session_requests.returning_until IS
'End of the returning mechanic''s exclusive window (returning_window_seconds); NULL: no window.';

CREATE TABLE IF NOT EXISTS working_hours (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mechanic_id uuid REFERENCES mechanics (id) ON DELETE CASCADE,
    workshop_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
    iso_dow smallint NOT NULL CHECK (iso_dow BETWEEN 1 AND 7),
    opens time NOT NULL,
    closes time NOT NULL,
    CHECK ((mechanic_id IS NULL) <> (workshop_id IS NULL))
);
CREATE INDEX IF NOT EXISTS working_hours_mechanic_idx ON working_hours (mechanic_id, iso_dow)
WHERE mechanic_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS working_hours_workshop_idx ON working_hours (workshop_id, iso_dow)
WHERE workshop_id IS NOT NULL;
COMMENT ON TABLE working_hours IS
'Weekly working hours of a mechanic, or of a workshop for its mechanics without hours of their own, in local time.';
COMMENT ON COLUMN working_hours.id IS 'Identity.';
COMMENT ON COLUMN working_hours.mechanic_id IS 'The mechanic (or workshop_id).';
COMMENT ON COLUMN working_hours.workshop_id IS 'The workshop (or mechanic_id).';
COMMENT ON COLUMN working_hours.iso_dow IS 'Local day of the week: 1 Monday .. 7 Sunday.';
COMMENT ON COLUMN working_hours.opens IS 'Local opening time.';
COMMENT ON COLUMN working_hours.closes IS
'Local closing time (excluded); not after opens: the span runs past midnight (00:00-00:00 is the whole day).';

CREATE TABLE IF NOT EXISTS hours_overrides (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mechanic_id uuid REFERENCES mechanics (id) ON DELETE CASCADE,
    workshop_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
    day date NOT NULL,
    opens time,
    closes time,
    note text CHECK (note IS NULL OR length(note) <= 200),
    CHECK ((mechanic_id IS NULL) <> (workshop_id IS NULL)),
    CHECK ((opens IS NULL) = (closes IS NULL))
);
CREATE INDEX IF NOT EXISTS hours_overrides_mechanic_idx ON hours_overrides (mechanic_id, day)
WHERE mechanic_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS hours_overrides_workshop_idx ON hours_overrides (workshop_id, day)
WHERE workshop_id IS NOT NULL;
COMMENT ON TABLE hours_overrides IS
'Dated exceptions to working hours (holidays, leave, special hours): they replace the week''s hours of that local day.';
COMMENT ON COLUMN hours_overrides.id IS 'Identity.';
COMMENT ON COLUMN hours_overrides.mechanic_id IS 'The mechanic (their own override wins over their workshop''s).';
COMMENT ON COLUMN hours_overrides.workshop_id IS 'The workshop (a holiday of the whole workshop).';
COMMENT ON COLUMN hours_overrides.day IS 'The local date.';
COMMENT ON COLUMN hours_overrides.opens IS 'Special opening time; NULL with closes: closed all day.';
COMMENT ON COLUMN hours_overrides.closes IS 'Special closing time; NULL with opens: closed all day.';
COMMENT ON COLUMN hours_overrides.note IS 'Why (e.g. a public holiday).';

CREATE TABLE IF NOT EXISTS mechanic_reliability (
    mechanic_id uuid PRIMARY KEY REFERENCES mechanics (id) ON DELETE CASCADE,
    review_count bigint NOT NULL DEFAULT 0,
    rating_sum bigint NOT NULL DEFAULT 0,
    offers_resolved bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mechanic_reliability IS
'Per mechanic, kept by triggers: the stars of their reviews and their offers resolved (accepted, declined, timed out).';
COMMENT ON COLUMN mechanic_reliability.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN mechanic_reliability.review_count IS 'Reviews of sessions they served.';
COMMENT ON COLUMN mechanic_reliability.rating_sum IS 'Sum of those reviews'' stars.';
COMMENT ON COLUMN mechanic_reliability.offers_resolved IS 'Offers accepted, declined or timed out, ever.';
COMMENT ON COLUMN mechanic_reliability.updated_at IS 'When a trigger last changed it.';

CREATE TABLE IF NOT EXISTS mechanic_reliability_days (
    mechanic_id uuid NOT NULL REFERENCES mechanics (id) ON DELETE CASCADE,
    day date NOT NULL,
    offers_resolved integer NOT NULL DEFAULT 0,
    accepted integer NOT NULL DEFAULT 0,
    declined integer NOT NULL DEFAULT 0,
    timed_out integer NOT NULL DEFAULT 0,
    sessions_ended integer NOT NULL DEFAULT 0,
    sessions_missed integer NOT NULL DEFAULT 0,
    PRIMARY KEY (mechanic_id, day)
);
COMMENT ON TABLE mechanic_reliability_days IS
'Per mechanic and UTC day: offers resolved by outcome, and sessions they accepted that ended or that they missed.';
COMMENT ON COLUMN mechanic_reliability_days.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN mechanic_reliability_days.day IS 'UTC day of the outcome or of the session''s end.';
COMMENT ON COLUMN mechanic_reliability_days.offers_resolved IS 'Offers accepted, declined or timed out that day.';
COMMENT ON COLUMN mechanic_reliability_days.accepted IS 'Accepted.';
COMMENT ON COLUMN mechanic_reliability_days.declined IS 'Declined.';
COMMENT ON COLUMN mechanic_reliability_days.timed_out IS 'Timed out (counted as declines).';
COMMENT ON COLUMN mechanic_reliability_days.sessions_ended IS
'Sessions they accepted that ended (completed, customer no-show, or missed).';
COMMENT ON COLUMN mechanic_reliability_days.sessions_missed IS
'Sessions they accepted that ended cancelled or refunded without ever starting: the mechanic''s no-shows.';

CREATE TABLE IF NOT EXISTS mechanic_response_days (
    mechanic_id uuid NOT NULL REFERENCES mechanics (id) ON DELETE CASCADE,
    day date NOT NULL,
    bucket double precision NOT NULL,
    responses integer NOT NULL DEFAULT 0,
    PRIMARY KEY (mechanic_id, day, bucket)
);
COMMENT ON TABLE mechanic_response_days IS
'Mergeable histogram of the seconds from offer to answer (timeouts: to expiry) per mechanic and UTC day; '
'buckets of ssr_private.analytics_bucket.';
COMMENT ON COLUMN mechanic_response_days.mechanic_id IS 'The mechanic.';
COMMENT ON COLUMN mechanic_response_days.day IS 'UTC day of the outcome.';
COMMENT ON COLUMN mechanic_response_days.bucket IS 'Seconds, rounded to 3 significant digits.';
COMMENT ON COLUMN mechanic_response_days.responses IS 'Offers resolved in that bucket.';

CREATE TABLE IF NOT EXISTS ranking_platform (
    id boolean PRIMARY KEY DEFAULT TRUE CHECK (id),
    review_count bigint NOT NULL DEFAULT 0,
    rating_sum bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE ranking_platform IS 'One row: every review''s stars, the platform mean that shrunk ratings are pulled toward.';
COMMENT ON COLUMN ranking_platform.id IS 'Always TRUE (one row).';
COMMENT ON COLUMN ranking_platform.review_count IS 'Reviews of sessions with a mechanic.';
COMMENT ON COLUMN ranking_platform.rating_sum IS 'Sum of their stars.';
INSERT INTO ranking_platform (id) VALUES (TRUE) ON CONFLICT (id) DO NOTHING;

REVOKE ALL ON working_hours, hours_overrides, mechanic_reliability, mechanic_reliability_days,
mechanic_response_days, ranking_platform FROM PUBLIC;

INSERT INTO routing_parameters (name, kind, default_value, min_value, max_value, nullable, description) VALUES
(
    'skills_relax_seconds', 'integer', '300', 0, 86400, TRUE,
    'After how long a request''s required skills stop restricting who is offered it (null: never).'
),
(
    'returning_window_seconds', 'integer', '0', 0, 600, FALSE,
    'How long the mechanic of the customer''s last completed session has a new request to themselves (0: no window).'
),
(
    'rank_prior_strength', 'number', '20', 0, 100000, FALSE,
    'Strength C of the shrunk rating: the platform mean counts as C reviews.'
),
(
    'rank_acceptance_window', 'integer', '100', 1, 1000, FALSE,
    'Acceptance rate over the mechanic''s last N resolved offers (timeouts count as declines).'
),
(
    'rank_acceptance_min', 'integer', '10', 1, 1000, FALSE,
    'Fewest resolved offers (and responses) before acceptance and response time count.'
),
(
    'rank_response_percentile', 'number', '0.75', 0.01, 0.99, FALSE,
    'The percentile of response times that is scored.'
),
(
    'rank_response_target_seconds', 'integer', '30', 1, 86400, FALSE,
    'Response time scored in full; slower percentiles score target / percentile.'
),
(
    'rank_window_days', 'integer', '30', 1, 365, FALSE,
    'Rolling window of response times and no-shows, in days.'
),
(
    'rank_no_show_min', 'integer', '5', 1, 1000, FALSE,
    'Fewest ended sessions in the window before the no-show rate counts.'
),
(
    'rank_weight_rating', 'number', '1.0', 0, 100, FALSE, 'Weight of the shrunk rating in the quality score.'
),
(
    'rank_weight_acceptance', 'number', '0.5', 0, 100, FALSE, 'Weight of the acceptance rate.'
),
(
    'rank_weight_response', 'number', '0.25', 0, 100, FALSE, 'Weight of the response-time term.'
),
(
    'rank_weight_no_show', 'number', '0.5', 0, 100, FALSE, 'Weight of the no-show term (1 - no-show rate).'
),
(
    'rank_cold_start_offers', 'integer', '20', 0, 10000, FALSE,
    'A mechanic with fewer resolved offers than this is new: the boost decays to 0 at this count.'
),
(
    'rank_cold_start_days', 'integer', '30', 0, 3650, FALSE, 'The boost ends this many days after the mechanic joined.'
),
(
    'rank_cold_start_boost', 'number', '0.2', 0, 10, FALSE, 'Largest cold-start boost (added to the score).'
),
(
    'rank_exposure_window_seconds', 'integer', '3600', 60, 86400, FALSE, 'Window of the exposure cap.'
),
(
    'rank_exposure_cap', 'integer', '30', 1, 100000, FALSE,
    'Offers in the window after which a mechanic is ranked behind everyone uncapped.'
),
(
    'rank_exposure_penalty', 'number', '2.0', 0, 100, FALSE, 'Subtracted from the score of a capped mechanic.'
)
ON CONFLICT (name) DO NOTHING;

-- The mechanic row policy on session_requests reads the hours state of the mechanic's own row.
GRANT SELECT (in_hours, hours_scheduled) ON mechanics TO mechanic;
