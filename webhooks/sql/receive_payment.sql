-- version: 4
-- webhooks_receive_payment: one delivery of the bank webhook, recorded and (when new)
-- booked in one call, so in one transaction and one round trip.
--
-- Deliveries of one operation_id are serialized on an advisory lock, so a repeat waits for
-- the first delivery's commit and then sees its Payment: a repeat with the same payload hash
-- is a duplicate, with another a conflict; neither books anything. A new operation_id takes
-- the lock of its document key (document_key.sql), which the booking of a bank-statement
-- line takes too: if the payment was already booked from the statement, the delivery books
-- nothing, is a duplicate of that payment, and the payment takes its operation_id and
-- payload hash. Otherwise the payment is booked Dr bank clearing / Cr the organization's
-- account, or unidentified receipts when no organization has the INN. The booking holds the
-- shared advisory lock of its INN while it decides, so it cannot interleave with the
-- creation of that organization, which takes the same lock exclusively
-- (organizations/locks.py). Every delivery is recorded. Locks are taken in the order
-- operation, document, INN, as everywhere else.
--
-- No plan of this function may scan a growing table sequentially, whatever the planner's
-- statistics say (a fresh deployment, or tables past a statistics cliff before autovacuum's
-- next ANALYZE): every table it reads has the index the lookup needs.
DROP FUNCTION IF EXISTS webhooks_receive_payment(uuid, numeric, text, text, text, timestamptz, text, text, jsonb, inet);
CREATE OR REPLACE FUNCTION webhooks_receive_payment(
    p_operation_id uuid,
    p_amount numeric,
    p_currency text,
    p_payer_inn text,
    p_document_number text,
    p_document_date timestamptz,
    p_payload_hash text,
    p_raw_body text,
    p_headers jsonb,
    p_remote_addr inet,
    p_time_zone text
) RETURNS TABLE (o_result text, o_payment_id bigint, o_entry_id bigint, o_delivery_id bigint)
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    v_payment bigint;
    v_hash text;
    v_entry bigint;
    v_account bigint;
    v_result text;
    v_delivery bigint;
    v_day date;
BEGIN
    PERFORM pg_advisory_xact_lock({{ LockNamespace.OPERATION }}, hashtext(p_operation_id::text));

    SELECT p.id, p.payload_hash, p.entry_id INTO v_payment, v_hash, v_entry
      FROM webhooks_payment p
     WHERE p.operation_id = p_operation_id;

    IF FOUND THEN
        v_result := CASE WHEN v_hash = p_payload_hash THEN {{ DeliveryResult.DUPLICATE }} ELSE {{ DeliveryResult.CONFLICT }} END;
    ELSE
        v_day := webhooks_document_day(p_document_date, p_time_zone);
        PERFORM webhooks_document_lock(p_payer_inn, p_document_number, v_day, p_amount);
        SELECT p.id, p.entry_id INTO v_payment, v_entry
          FROM webhooks_payment p
         WHERE p.operation_id IS NULL
           AND p.payer_inn = p_payer_inn
           AND p.document_number = p_document_number
           AND p.amount = p_amount
           AND webhooks_document_day(p.document_date, p_time_zone) = v_day
         ORDER BY p.id
         LIMIT 1;

        IF FOUND THEN
            -- Booked from the bank statement already: this delivery is its webhook.
            UPDATE webhooks_payment
               SET operation_id = p_operation_id, payload_hash = p_payload_hash
             WHERE id = v_payment;
            v_result := {{ DeliveryResult.DUPLICATE }};
        ELSE
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
                'Payment ' || p_document_number || ' from INN ' || p_payer_inn,
                p_operation_id::text,
                p_payer_inn,
                ARRAY[(SELECT a.id FROM accounting_account a WHERE a.code = {{ BANK_CLEARING.code }}), v_account],
                ARRAY[{{ Side.DEBIT }}, {{ Side.CREDIT }}],
                ARRAY[p_amount, p_amount],
                ARRAY[p_currency, p_currency]
            );

            INSERT INTO webhooks_payment
                (operation_id, source, amount, amount_currency, payer_inn, document_number,
                 document_date, payload_hash, entry_id, received_at)
            VALUES
                (p_operation_id, {{ PaymentSource.WEBHOOK }}, p_amount, p_currency, p_payer_inn,
                 p_document_number, p_document_date, p_payload_hash, v_entry, now())
            RETURNING id INTO v_payment;
        END IF;
    END IF;

    INSERT INTO webhooks_delivery
        (received_at, result, http_status, operation_id, payment_id, raw_body, headers,
         remote_addr)
    VALUES
        (now(), v_result, 200, p_operation_id, v_payment, p_raw_body, p_headers, p_remote_addr)
    RETURNING id INTO v_delivery;

    RETURN QUERY SELECT v_result, v_payment, v_entry, v_delivery;
END;
$$;
