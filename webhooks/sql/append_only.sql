-- version: 3
-- Payments and deliveries are the audit trail of what the bank sent: never updated, and
-- never deleted, except rejected deliveries past their retention, which only the owner's
-- webhooks_rejected_deliveries_purge() removes (delivery_retention.sql; the application's
-- role has no DELETE on the table). Plain triggers with no bypass (see
-- accounting/sql/append_only.sql).
--
-- One change of a payment is allowed, once: a payment booked from the bank statement has no
-- operation_id until its webhook arrives, and then takes the webhook's operation_id and
-- payload hash (webhooks/sql/receive_payment.sql). Every other column must stay as it was,
-- and an operation_id, once set, never changes.
CREATE OR REPLACE FUNCTION webhooks_payment_change_check() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.operation_id IS NULL
       AND NEW.operation_id IS NOT NULL
       AND OLD.payload_hash = ''
       AND (to_jsonb(OLD) - 'operation_id' - 'payload_hash')
           = (to_jsonb(NEW) - 'operation_id' - 'payload_hash') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% of % rows is refused: %', TG_OP, TG_TABLE_NAME,
        'payments are append-only; only a missing operation_id may be set, once'
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS webhooks_payment_append_only ON webhooks_payment;
CREATE TRIGGER webhooks_payment_append_only
    BEFORE UPDATE OR DELETE ON webhooks_payment
    FOR EACH ROW EXECUTE FUNCTION webhooks_payment_change_check();
ALTER TABLE webhooks_payment ENABLE ALWAYS TRIGGER webhooks_payment_append_only;

DROP TRIGGER IF EXISTS webhooks_delivery_append_only ON webhooks_delivery;
CREATE TRIGGER webhooks_delivery_append_only
    BEFORE UPDATE ON webhooks_delivery
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('deliveries are append-only');
ALTER TABLE webhooks_delivery ENABLE ALWAYS TRIGGER webhooks_delivery_append_only;

DROP TRIGGER IF EXISTS webhooks_delivery_kept ON webhooks_delivery;
CREATE TRIGGER webhooks_delivery_kept
    BEFORE DELETE ON webhooks_delivery
    FOR EACH ROW WHEN (OLD.result <> {{ DeliveryResult.REJECTED }})
    EXECUTE FUNCTION accounting_refuse_change('only rejected deliveries are ever deleted');
ALTER TABLE webhooks_delivery ENABLE ALWAYS TRIGGER webhooks_delivery_kept;

DROP TRIGGER IF EXISTS webhooks_deliverypurge_append_only ON webhooks_deliverypurge;
CREATE TRIGGER webhooks_deliverypurge_append_only
    BEFORE UPDATE OR DELETE ON webhooks_deliverypurge
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('the purge log is append-only');
ALTER TABLE webhooks_deliverypurge ENABLE ALWAYS TRIGGER webhooks_deliverypurge_append_only;
