-- version: 1
-- A payment's document key: payer INN, document number, document day and amount. The bank's
-- statement carries no operation_id, so this is how the webhook booking and the booking of
-- a statement line recognise the same payment.
--
-- webhooks_document_day: the day of a document date in the service's time zone.
CREATE OR REPLACE FUNCTION webhooks_document_day(p_document_date timestamptz, p_time_zone text)
RETURNS date
LANGUAGE sql STABLE
AS $$
    SELECT (p_document_date AT TIME ZONE p_time_zone)::date
$$;

-- webhooks_document_lock: the transaction-scoped advisory lock of one document key. Taken by
-- the webhook booking of a new operation_id and by the booking of a statement line, so the
-- two cannot both decide that the payment is not booked yet.
CREATE OR REPLACE FUNCTION webhooks_document_lock(
    p_payer_inn text, p_document_number text, p_document_day date, p_amount numeric
) RETURNS void
LANGUAGE sql
AS $$
    SELECT pg_advisory_xact_lock(
        {{ LockNamespace.DOCUMENT }},
        hashtext(p_payer_inn || chr(31) || p_document_number || chr(31)
                 || to_char(p_document_day, 'YYYY-MM-DD') || chr(31) || round(p_amount, 2)::text))
$$;
