-- pgTAP: errors a caller can map: SQLSTATE and the field (COLUMN) of each, in the order the
-- functions check them, and nothing written. Inputs: a small marketplace made here.
-- tap_error(sql) runs sql and returns 'SQLSTATE column' (or 'ok').
BEGIN;
SELECT no_plan();

CREATE FUNCTION pg_temp.tap_error(p_sql text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_state text;
    v_column text;
BEGIN
    EXECUTE p_sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_column = COLUMN_NAME;
    RETURN v_state || coalesce(' ' || nullif(v_column, ''), '');
END
$$;

INSERT INTO organizations (id, name, contact_email, status) VALUES
('a0000000-0000-4000-8000-000000000001', 'Alpha', 'a@alpha.example', 'active'),
('a0000000-0000-4000-8000-000000000003', 'Gamma', 'g@gamma.example', 'suspended');
INSERT INTO customers (id, email) VALUES ('c0000000-0000-4000-8000-000000000001', 'c1@c.example');
INSERT INTO plans (code, name, price_minor, currency, duration_minutes) VALUES ('tap15', 'Tap', 100, 'usd', 15);

SELECT is(
    pg_temp.tap_error($$SELECT * FROM get_mechanics_for_routing(NULL, 'hybrid')$$), 'SR400 workshop_id',
    'hybrid without a workshop: SR400 workshop_id'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM get_mechanics_for_routing('a0000000-0000-4000-8000-000000000001', 'closest')$$),
    'SR400 routing_type', 'unknown routing type: SR400 routing_type'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM get_mechanics_for_routing('a0000000-0000-4000-8000-00000000ffff', 'hybrid')$$),
    'SR404 workshop_id', 'unknown workshop: SR404 workshop_id'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM get_mechanics_for_routing('a0000000-0000-4000-8000-000000000003', 'hybrid')$$),
    'SR404 workshop_id', 'suspended workshop: SR404 workshop_id'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM get_mechanics_for_routing('nope', 'hybrid')$$), '22P02',
    'malformed UUID: 22P02'
);
SELECT is(pg_temp.tap_error('SELECT * FROM get_workshop_directory(0, 0)'), 'SR400 limit', 'directory limit 0: SR400 limit');
SELECT is(
    pg_temp.tap_error('SELECT * FROM get_workshop_directory(101, 0)'), 'SR400 limit', 'directory limit 101: SR400 limit'
);
SELECT is(
    pg_temp.tap_error('SELECT * FROM get_workshop_directory(10, -1)'), 'SR400 offset', 'directory offset -1: SR400 offset'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM ssr_private.create_session_request(
        'c0000000-0000-4000-8000-00000000ffff', 'tap15', NULL, NULL, NULL, 'broadcast')$$),
    'SR404 customer_id', 'unknown customer: SR404 customer_id'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM ssr_private.create_session_request(
        'c0000000-0000-4000-8000-000000000001', 'nope', NULL, NULL, NULL, 'broadcast')$$),
    'SR404 plan_code', 'unknown plan: SR404 plan_code'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM accept_session_request(NULL, 'b0000000-0000-4000-8000-000000000001')$$),
    'SR400 request_id', 'accept without a request: SR400 request_id'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM accept_session_request(gen_random_uuid(), 'b0000000-0000-4000-8000-000000000001')$$),
    'SR403 mechanic_id', 'accept without a verified mechanic identity: SR403 mechanic_id (fail-closed)'
);
SELECT is(
    pg_temp.tap_error($$SELECT * FROM create_checkout_purchase('c0000000-0000-4000-8000-000000000001', 'tap15', NULL, NULL)$$),
    'SR403 customer_id', 'purchase without a verified customer identity: SR403 customer_id'
);
SELECT is(pg_temp.tap_error('SELECT ssr_private.routing_outbox_prune(NULL)'), 'SR400 keep', 'prune without an interval: SR400 keep');
SELECT throws_ok(
    $$SELECT * FROM get_mechanics_for_routing(NULL, 'workshop_only')$$, 'SR400',
    'workshop_id is required when routing_type is workshop_only', 'the message names the field'
);
SELECT is_empty(
    $$SELECT 1 FROM session_requests WHERE customer_id = 'c0000000-0000-4000-8000-000000000001'$$,
    'refused calls wrote nothing'
);

SELECT * FROM finish();
ROLLBACK;
