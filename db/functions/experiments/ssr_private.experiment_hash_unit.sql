-- ssr_private.experiment_hash_unit: a unit's deterministic draw in [0, 1) for an experiment's
-- seed (the low 52 bits of hashtextextended): the same key and seed always give the same
-- value, different seeds independent-looking ones. No errors; NULL in, NULL out.
CREATE OR REPLACE FUNCTION ssr_private.experiment_hash_unit(p_key text, p_seed bigint)
RETURNS double precision
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
SELECT (hashtextextended(p_key, p_seed) & 4503599627370495)::double precision / 4503599627370496
$$;

COMMENT ON FUNCTION ssr_private.experiment_hash_unit(text, bigint) IS
'A unit''s reproducible draw in [0, 1) for an experiment seed (assignment by hash).';
