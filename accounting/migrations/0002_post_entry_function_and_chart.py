"""The posting function (accounting/sql/post_entry.sql) and the seeded chart of accounts
(accounting/chart.py)."""

from django.db import migrations

from accounting.sql import SQL

DROP_POST_ENTRY_FUNCTION = (
    "DROP FUNCTION IF EXISTS accounting_post_entry("
    "text, text, text, text, bigint[], text[], numeric[], text[], bigint, bigint, text, integer);"
)


def seed_chart(apps, schema_editor):
    from accounting.chart import SYSTEM_ACCOUNTS

    Account = apps.get_model("accounting", "Account")
    for account in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(
            code=account.code,
            defaults={"name": account.name, "type": account.type},
        )


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]

    operations = [
        SQL.install("post_entry", version=1, reverse_sql=DROP_POST_ENTRY_FUNCTION),
        migrations.RunPython(seed_chart, migrations.RunPython.noop),
    ]
