-- Every trigger on working_hours, in firing order.

-- New or changed hours take effect at once for the maintained counts, not at the next run of the job hours.
CREATE OR REPLACE TRIGGER hours_changed
AFTER INSERT OR UPDATE OR DELETE ON working_hours
FOR EACH ROW EXECUTE FUNCTION ssr_private.hours_changed_trg();
