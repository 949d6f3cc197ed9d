"""The posting function and the seeded chart of accounts.

`accounting_post_entry` writes a journal entry and its lines in one server-side call. The
triggers on the lines add the balance deltas and balance-change rows; the deferred triggers
re-check the entry at commit.
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

    -- The lines' statement trigger writes the balance deltas and balance-change rows.
    INSERT INTO accounting_journalline (entry_id, account_id, side, amount, amount_currency)
    SELECT v_entry, u.account_id, u.side, u.amount, u.currency
      FROM unnest(p_accounts, p_sides, p_amounts, p_currencies)
           AS u(account_id, side, amount, currency);

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
