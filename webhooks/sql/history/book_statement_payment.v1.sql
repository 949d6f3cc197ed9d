-- version: 1
-- webhooks_book_statement_payment: book a payment that the bank's statement shows and no
-- webhook announced, unless it is booked already. Runs in the caller's transaction.
--
-- Takes the advisory lock of the document key (document_key.sql), which the webhook booking
-- of a new operation_id takes too, so of the two whichever comes second sees the first's
-- payment. A payment with this document key that is not in p_claimed (the payments the
-- caller has already matched to other statement lines) is returned as 'existing' and
-- nothing is booked. Otherwise the payment is booked like a webhook payment: Dr bank
-- clearing / Cr the organization's account, or unidentified receipts when no organization
-- has the INN (under the INN's shared lock, as webhooks_receive_payment), through
-- accounting_post_entry, with the acting user and the reason on the entry; the Payment has
-- source 'statement', no operation_id yet and an empty payload hash, both filled in by its
-- webhook if one arrives.
CREATE OR REPLACE FUNCTION webhooks_book_statement_payment(
    p_amount numeric,
    p_currency text,
    p_payer_inn text,
    p_document_number text,
    p_document_day date,
    p_time_zone text,
    p_claimed bigint[],
    p_reason text,
    p_created_by integer
) RETURNS TABLE (o_result text, o_payment_id bigint, o_entry_id bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_payment bigint;
    v_entry bigint;
    v_account bigint;
    v_result text;
BEGIN
    PERFORM webhooks_document_lock(p_payer_inn, p_document_number, p_document_day, p_amount);

    SELECT p.id, p.entry_id INTO v_payment, v_entry
      FROM webhooks_payment p
     WHERE p.payer_inn = p_payer_inn
       AND p.document_number = p_document_number
       AND p.amount = p_amount
       AND webhooks_document_day(p.document_date, p_time_zone) = p_document_day
       AND p.id <> ALL (coalesce(p_claimed, '{}'))
     ORDER BY p.id
     LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 'existing'::text, v_payment, v_entry;
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock_shared({{ LockNamespace.INN }}, hashtext(p_payer_inn));
    SELECT o.account_id INTO v_account
      FROM organizations_organization o
     WHERE o.inn = p_payer_inn;
    IF FOUND THEN
        v_result := {{ DeliveryResult.BOOKED }};
    ELSE
        v_result := {{ DeliveryResult.UNIDENTIFIED }};
        SELECT a.id INTO STRICT v_account FROM accounting_account a WHERE a.code = {{ UNIDENTIFIED_RECEIPTS.code }};
    END IF;

    v_entry := accounting_post_entry(
        {{ EntryKind.PAYMENT }},
        'Payment ' || p_document_number || ' from INN ' || coalesce(nullif(p_payer_inn, ''), 'unknown')
            || ' (bank statement)',
        p_document_number,
        p_payer_inn,
        ARRAY[(SELECT a.id FROM accounting_account a WHERE a.code = {{ BANK_CLEARING.code }}), v_account],
        ARRAY[{{ Side.DEBIT }}, {{ Side.CREDIT }}],
        ARRAY[p_amount, p_amount],
        ARRAY[p_currency, p_currency],
        NULL,
        NULL,
        p_reason,
        p_created_by
    );

    INSERT INTO webhooks_payment
        (operation_id, source, amount, amount_currency, payer_inn, document_number,
         document_date, payload_hash, entry_id, received_at)
    VALUES
        (NULL, {{ PaymentSource.STATEMENT }}, p_amount, p_currency, p_payer_inn, p_document_number,
         (p_document_day::timestamp AT TIME ZONE p_time_zone), '', v_entry, now())
    RETURNING id INTO v_payment;

    RETURN QUERY SELECT v_result, v_payment, v_entry;
END;
$$;
