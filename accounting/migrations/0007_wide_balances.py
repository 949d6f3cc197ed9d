"""Balances wide enough for every payment the service can accept in its lifetime
(docs/architecture.md, "Bounds"). The trigger that watches these columns is set aside for
the change and installed again, unchanged."""

from django.db import migrations, models

from accounting.sql import SQL

DROP_ONLY_DISPATCH = (
    "DROP TRIGGER IF EXISTS accounting_balancechange_only_dispatch ON accounting_balancechange;"
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0006_plain_sql_triggers"),
    ]

    operations = [
        migrations.RunSQL(DROP_ONLY_DISPATCH, SQL.text("append_only", 1)),
        migrations.AlterField(
            model_name="accountbalance",
            name="balance",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=38),
        ),
        migrations.AlterField(
            model_name="balancechange",
            name="amount",
            field=models.DecimalField(decimal_places=2, max_digits=38),
        ),
        migrations.AlterField(
            model_name="balancechange",
            name="balance_after",
            field=models.DecimalField(decimal_places=2, max_digits=38),
        ),
        migrations.AlterField(
            model_name="balancedelta",
            name="amount",
            field=models.DecimalField(decimal_places=2, max_digits=38),
        ),
        migrations.RunSQL(SQL.text("append_only", 1), DROP_ONLY_DISPATCH),
    ]
