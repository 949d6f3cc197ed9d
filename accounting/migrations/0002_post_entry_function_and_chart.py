"""The posting function and the seeded chart of accounts.

`accounting_post_entry` is the one place a journal entry is written: the entry, its lines,
one balance delta per account touched (signed on the account's normal side), and a
balance-change log row per liability account, in one server-side call. The deferred
triggers on the tables re-check the entry at commit.
"""

from django.db import migrations

POST_ENTRY_FUNCTION = """
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

    WITH lines AS (
        INSERT INTO accounting_journalline (entry_id, account_id, side, amount, amount_currency)
        SELECT v_entry, u.account_id, u.side, u.amount, u.currency
          FROM unnest(p_accounts, p_sides, p_amounts, p_currencies)
               AS u(account_id, side, amount, currency)
        RETURNING account_id, side, amount
    ), signed AS (
        SELECT l.account_id,
               a.type,
               sum(CASE WHEN (a.type IN ('asset', 'expense')) = (l.side = 'D')
                        THEN l.amount ELSE -l.amount END) AS amount
          FROM lines l
          JOIN accounting_account a ON a.id = l.account_id
         GROUP BY l.account_id, a.type
    ), deltas AS (
        INSERT INTO accounting_balancedelta (account_id, amount)
        SELECT account_id, amount FROM signed
    )
    INSERT INTO accounting_balancechange (account_id, entry_id, amount)
    SELECT account_id, v_entry, amount FROM signed WHERE type = 'liability';

    RETURN v_entry;
END;
$$;
"""

DROP_POST_ENTRY_FUNCTION = (
    "DROP FUNCTION IF EXISTS accounting_post_entry("
    "text, text, text, text, bigint[], text[], numeric[], text[], bigint, bigint, text, integer);"
)

SEED_CHART = """
INSERT INTO accounting_account (code, name, type, currency, created_at) VALUES
    ('51', 'Bank clearing', 'asset', 'RUB', now()),
    ('76.UNID', 'Unidentified receipts (suspense)', 'liability', 'RUB', now())
ON CONFLICT (code) DO NOTHING;
"""


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]

    operations = [
        migrations.RunSQL(POST_ENTRY_FUNCTION, DROP_POST_ENTRY_FUNCTION),
        migrations.RunSQL(SEED_CHART, migrations.RunSQL.noop),
    ]
