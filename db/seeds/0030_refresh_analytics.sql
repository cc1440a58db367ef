-- Demo data: fill the materialized analytics views (created empty by the migrations).
SELECT * FROM refresh_analytics();
