"""The booking functions plan without sequential scans (SET enable_seqscan = off), so a
webhook costs the same whether or not the tables have been analyzed since they grew."""

from django.db import migrations

from webhooks.sql import SQL


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0008_payment_from_statement"),
        ("accounting", "0009_plans_without_statistics"),
    ]

    operations = [
        SQL.install("receive_payment", version=4),
        SQL.install("book_statement_payment", version=2),
    ]
