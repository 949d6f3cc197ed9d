"""Payments and deliveries are protected by plain SQL triggers (webhooks/sql/append_only.sql)
instead of django-pgtrigger's, which a session could switch off with `pgtrigger.ignore`."""

import pgtrigger.migrations
from django.db import migrations

from webhooks.sql import SQL


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0005_trim_indexes"),
        ("accounting", "0006_plain_sql_triggers"),
    ]

    operations = [
        SQL.install(
            "append_only",
            version=1,
            reverse_sql="DROP TRIGGER IF EXISTS webhooks_payment_append_only ON webhooks_payment;"
            " DROP TRIGGER IF EXISTS webhooks_delivery_append_only ON webhooks_delivery;",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="delivery",
            name="append_only",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="payment",
            name="append_only",
        ),
    ]
