"""The balance-change log's balance_after is computed when a change is dispatched, as a
running balance per account in log order (LoggedBalance holds where each account stands), so
posting no longer reads pending deltas. Changes logged earlier keep their balance_after."""

import django.db.models.deletion
from django.db import migrations, models

from accounting.sql import SQL

LOGGED_SO_FAR = """
INSERT INTO accounting_loggedbalance (account_id, balance)
SELECT account_id, sum(amount) FROM accounting_balancechange
 WHERE dispatched_at IS NOT NULL GROUP BY account_id
"""
# Back to a balance_after for every row: the pending ones get the balance as of now.
PENDING_BALANCE_AFTER = """
UPDATE accounting_balancechange SET balance_after = accounting_account_balance(account_id)
 WHERE balance_after IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0007_wide_balances"),
    ]

    operations = [
        SQL.install("append_only", version=2),
        SQL.install("lines_to_deltas", version=2),
        migrations.CreateModel(
            name="LoggedBalance",
            fields=[
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="accounting.account",
                    ),
                ),
                ("balance", models.DecimalField(decimal_places=2, max_digits=38)),
            ],
        ),
        migrations.AlterField(
            model_name="balancechange",
            name="balance_after",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=38, null=True),
        ),
        migrations.RunSQL(LOGGED_SO_FAR, PENDING_BALANCE_AFTER),
    ]
