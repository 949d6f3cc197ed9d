"""The ledger's triggers become plain SQL (accounting/sql/), replacing django-pgtrigger's.

pgtrigger's triggers honour a session setting (`pgtrigger.ignore`) that lets any role with
table grants switch them off; these do not. The trigger bodies are unchanged, now written
with the two balance rules of balances.sql.
"""

import pgtrigger.migrations
from django.db import migrations

from accounting.sql import SQL


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0005_trim_indexes"),
    ]

    operations = [
        SQL.install(
            "balances",
            version=1,
            reverse_sql="DROP FUNCTION IF EXISTS accounting_account_balance(bigint);"
            "DROP FUNCTION IF EXISTS accounting_normal_amount(text, text, numeric);",
        ),
        SQL.install(
            "entry_checks",
            version=1,
            reverse_sql="DROP TRIGGER IF EXISTS accounting_entry_balanced_at_commit"
            " ON accounting_journalentry; DROP FUNCTION IF EXISTS accounting_entry_check();",
        ),
        SQL.install(
            "lines_to_deltas",
            version=1,
            reverse_sql="DROP TRIGGER IF EXISTS accounting_lines_posted ON accounting_journalline;"
            " DROP FUNCTION IF EXISTS accounting_lines_posted();",
        ),
        SQL.install(
            "append_only",
            version=1,
            reverse_sql="DROP FUNCTION IF EXISTS accounting_refuse_change() CASCADE;",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="account",
            name="identity_fixed",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="account",
            name="no_delete",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="balancechange",
            name="no_delete",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="balancechange",
            name="only_dispatch_changes",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="journalentry",
            name="append_only",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="journalentry",
            name="balanced_at_commit",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="journalline",
            name="append_only",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="journalline",
            name="deltas_and_changes",
        ),
    ]
