-- version: 1
-- The two rules every balance follows, written once.
--
-- accounting_normal_amount: a line's amount signed on its account's normal side: positive
-- when it increases the balance (a debit to an asset or expense account, a credit to the
-- others), negative when it decreases it.
CREATE OR REPLACE FUNCTION accounting_normal_amount(
    p_account_type text, p_side text, p_amount numeric
) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN (p_account_type IN ({{ DEBIT_NORMAL_TYPES }})) = (p_side = {{ Side.DEBIT }})
                THEN p_amount ELSE -p_amount END
$$;

-- accounting_account_balance: the exact balance of an account on its normal side, the
-- cached (folded) sum plus the deltas not yet folded. Evaluated within one statement, so
-- from one snapshot: each posted amount is counted exactly once, folded or pending.
CREATE OR REPLACE FUNCTION accounting_account_balance(p_account bigint) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce((SELECT b.balance FROM accounting_accountbalance b
                      WHERE b.account_id = p_account), 0)
         + coalesce((SELECT sum(d.amount) FROM accounting_balancedelta d
                      WHERE d.account_id = p_account), 0)
$$;
