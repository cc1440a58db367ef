-- plans_app_select: the row-level-security policy of the app's login on plans (created by
-- 0101; RLS on, no other policy: any other role granted SELECT sees nothing). The price list
-- is public to the app: ssr_app reads every row (the checkout page joins it). No errors.
ALTER POLICY plans_app_select ON plans
USING (TRUE);
COMMENT ON POLICY plans_app_select ON plans IS
'The app''s login (ssr_app) reads the whole price list; other roles see nothing.';
