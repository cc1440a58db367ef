-- checkout_price_mismatch: THE price rule of fulfillment, in one place. Inputs: a plan row
-- (all NULL: no such plan) and an amount (minor units) and currency. Returns NULL when they
-- are the plan's price, 'amount_total' when the amount is not the plan's price, else
-- 'currency' when the currency is not the plan's; NULL too for a missing plan (the caller
-- reports that itself). No errors. ssr_private.fulfill_checkout raises SR400 on the column
-- named; fulfill_checkout_purchase checks the purchase's price with it (amount_mismatch).
CREATE OR REPLACE FUNCTION ssr_private.checkout_price_mismatch(
    p_plan plans,
    p_amount_total integer,
    p_currency text
) RETURNS text
LANGUAGE sql
IMMUTABLE
AS $$
SELECT CASE
    WHEN (p_plan).code IS NULL THEN NULL
    WHEN p_amount_total IS DISTINCT FROM (p_plan).price_minor THEN 'amount_total'
    WHEN p_currency IS DISTINCT FROM (p_plan).currency THEN 'currency'
END
$$;

COMMENT ON FUNCTION ssr_private.checkout_price_mismatch(plans, integer, text) IS
'The fulfillment price rule: NULL when amount and currency are the plan''s, else the column that differs '
'(amount_total or currency); NULL for a missing plan.';
