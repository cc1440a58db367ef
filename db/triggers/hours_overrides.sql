-- Every trigger on hours_overrides, in firing order.

-- A holiday or special hours take effect at once for the maintained counts, not at the next run of the job hours.
CREATE OR REPLACE TRIGGER hours_changed
AFTER INSERT OR UPDATE OR DELETE ON hours_overrides
FOR EACH ROW EXECUTE FUNCTION ssr_private.hours_changed_trg();
