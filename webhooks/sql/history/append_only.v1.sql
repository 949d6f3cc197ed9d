-- version: 1
-- Payments and deliveries are the audit trail of what the bank sent: never updated or
-- deleted. Plain triggers with no bypass (see accounting/sql/append_only.sql).
DROP TRIGGER IF EXISTS webhooks_payment_append_only ON webhooks_payment;
CREATE TRIGGER webhooks_payment_append_only
    BEFORE UPDATE OR DELETE ON webhooks_payment
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('payments are append-only');
ALTER TABLE webhooks_payment ENABLE ALWAYS TRIGGER webhooks_payment_append_only;

DROP TRIGGER IF EXISTS webhooks_delivery_append_only ON webhooks_delivery;
CREATE TRIGGER webhooks_delivery_append_only
    BEFORE UPDATE OR DELETE ON webhooks_delivery
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('deliveries are append-only');
ALTER TABLE webhooks_delivery ENABLE ALWAYS TRIGGER webhooks_delivery_append_only;
