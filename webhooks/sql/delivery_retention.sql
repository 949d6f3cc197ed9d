-- version: 1
-- webhooks_rejected_deliveries_purge: the one path by which deliveries are deleted. It
-- removes rejected deliveries received more than p_days days ago, records the run in
-- webhooks_deliverypurge in the same transaction, and returns how many it removed. It runs
-- with its owner's rights (SECURITY DEFINER), so the application's role, which may execute
-- it but has no DELETE on deliveries, can purge nothing else.
CREATE OR REPLACE FUNCTION webhooks_rejected_deliveries_purge(p_days integer) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    v_cutoff timestamptz;
    v_deleted integer;
BEGIN
    IF p_days IS NULL OR p_days < 1 THEN
        RAISE EXCEPTION 'the retention must be at least one day, not %', p_days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_cutoff := now() - make_interval(days => p_days);
    DELETE FROM webhooks_delivery
     WHERE result = {{ DeliveryResult.REJECTED }} AND received_at < v_cutoff;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    INSERT INTO webhooks_deliverypurge (purged_at, cutoff, deleted, database_user)
    VALUES (now(), v_cutoff, v_deleted, session_user);
    RETURN v_deleted;
END;
$$;

REVOKE ALL ON FUNCTION webhooks_rejected_deliveries_purge(integer) FROM PUBLIC;
