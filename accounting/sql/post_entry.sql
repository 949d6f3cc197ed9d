-- version: 2
-- accounting_post_entry: write a journal entry and its lines in one server-side call.
-- The lines' statement trigger (lines_to_deltas.sql) adds the balance deltas and the
-- balance-change rows; the entry's deferred trigger (entry_checks.sql) re-checks the entry
-- at commit. Arrays are one element per line.
--
-- No plan of this function may scan a growing table sequentially, whatever the planner's
-- statistics say (a fresh deployment, or tables past a statistics cliff before autovacuum's
-- next ANALYZE): every table it reads has the index the lookup needs.
CREATE OR REPLACE FUNCTION accounting_post_entry(
    p_kind text,
    p_memo text,
    p_reference text,
    p_party text,
    p_accounts bigint[],
    p_sides text[],
    p_amounts numeric[],
    p_currencies text[],
    p_reverses bigint DEFAULT NULL,
    p_reclassifies bigint DEFAULT NULL,
    p_reason text DEFAULT '',
    p_created_by integer DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    v_entry bigint;
BEGIN
    INSERT INTO accounting_journalentry
        (kind, memo, reference, party, line_count, reverses_id, reclassifies_id, reason,
         created_by_id)
    VALUES
        (p_kind, p_memo, p_reference, p_party, cardinality(p_accounts), p_reverses,
         p_reclassifies, p_reason, p_created_by)
    RETURNING id INTO v_entry;

    -- The lines' statement trigger writes the balance deltas and balance-change rows.
    INSERT INTO accounting_journalline (entry_id, account_id, side, amount, amount_currency)
    SELECT v_entry, u.account_id, u.side, u.amount, u.currency
      FROM unnest(p_accounts, p_sides, p_amounts, p_currencies)
           AS u(account_id, side, amount, currency);

    RETURN v_entry;
END;
$$;
