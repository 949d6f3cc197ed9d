"""`webhooks_receive_payment` (webhooks/sql/receive_payment.sql), version 1."""

from django.db import migrations

from webhooks.sql import SQL

DROP_RECEIVE_PAYMENT_FUNCTION = (
    "DROP FUNCTION IF EXISTS webhooks_receive_payment("
    "uuid, numeric, text, text, text, timestamptz, text, text, jsonb, inet);"
)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("accounting", "0002_post_entry_function_and_chart"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        SQL.install("receive_payment", version=1, reverse_sql=DROP_RECEIVE_PAYMENT_FUNCTION),
    ]
