"""Rejected deliveries: what is kept of unauthenticated ones, their retention through one
audited function (webhooks/sql/delivery_retention.sql), and the imitation's own permission."""

import django.db.models.functions.datetime
from django.db import migrations, models

from webhooks.sql import SQL


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0006_plain_sql_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeliveryPurge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "purged_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("cutoff", models.DateTimeField()),
                ("deleted", models.PositiveIntegerField()),
                ("database_user", models.CharField(max_length=128)),
            ],
            options={
                "ordering": ["-id"],
            },
        ),
        migrations.AlterModelOptions(
            name="bankimitation",
            options={
                "ordering": ["-id"],
                "permissions": [
                    ("run_bankimitation", "Can send payments through the bank imitation")
                ],
            },
        ),
        migrations.AddField(
            model_name="delivery",
            name="body_length",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="body_sha256",
            field=models.CharField(blank=True, db_default="", max_length=64),
        ),
        migrations.AddField(
            model_name="delivery",
            name="body_truncated",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("result", "rejected")),
                fields=["received_at"],
                name="delivery_rejected_received",
            ),
        ),
        SQL.install(
            "append_only",
            version=2,
            reverse_sql="DROP TRIGGER IF EXISTS webhooks_delivery_kept ON webhooks_delivery;",
        ),
        SQL.install(
            "delivery_retention",
            version=1,
            reverse_sql="DROP FUNCTION IF EXISTS webhooks_rejected_deliveries_purge(integer);",
        ),
    ]
