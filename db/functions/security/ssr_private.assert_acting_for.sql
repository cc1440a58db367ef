-- ssr_private.assert_acting_for: refuses unless the transaction verifiably acts for the
-- mechanic, customer or staff member p_id (see ssr_private.verified_identity). Every API function that
-- acts for a mechanic or a customer calls it before reading or writing anything.
-- Errors, in this order:
--   SR400 (COLUMN kind) p_kind is not mechanic, customer or staff;
--   SR403 (COLUMN <kind>_id) no verified identity in this transaction;
--   SR403 (COLUMN <kind>_id) the verified identity is another mechanic, customer or staff member than p_id.
-- A NULL p_id is the caller's own SR400 to raise first; here it is refused like a mismatch.
CREATE OR REPLACE FUNCTION ssr_private.assert_acting_for(p_kind text, p_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_acting uuid := ssr_private.verified_identity(p_kind);
BEGIN
    IF v_acting IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format(
                '%s_id: no verified %s identity in this transaction (the app sets app.%s_id; '
                'role %s needs request.jwt.claims with sub and role = %s)',
                p_kind, p_kind, p_kind, p_kind, p_kind
            ),
            COLUMN = p_kind || '_id';
    END IF;
    IF p_id IS DISTINCT FROM v_acting THEN
        RAISE EXCEPTION USING
            ERRCODE = 'SR403',
            MESSAGE = format('%s_id %s is not the %s this transaction acts for', p_kind, p_id, p_kind),
            COLUMN = p_kind || '_id';
    END IF;
END
$$;

COMMENT ON FUNCTION ssr_private.assert_acting_for(text, uuid) IS
'Raises SR403 (COLUMN mechanic_id / customer_id / staff_id) unless the verified identity of the transaction is p_id.';
