-- Demo data: apply the queued changes to the analytics rollups now (the worker of
-- `make run` does it every few seconds from then on).
SELECT * FROM ssr_private.refresh_analytics();
