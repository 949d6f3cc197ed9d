"""Payments booked from the bank statement: a source, no operation_id until their webhook
arrives, the document-key lock shared by both bookings, `webhooks_receive_payment` version 3
(a first delivery for a statement-booked payment is its duplicate and gives it its
operation_id), `webhooks_book_statement_payment`, and the append-only trigger of payments
allowing that one change."""

from django.db import migrations, models

from webhooks.sql import SQL

RECEIVE_PAYMENT_V3_SIGNATURE = (
    "uuid, numeric, text, text, text, timestamptz, text, text, jsonb, inet, text"
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0008_balance_after_at_dispatch"),
        ("webhooks", "0007_rejected_delivery_retention"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="source",
            field=models.CharField(
                choices=[("webhook", "Webhook"), ("statement", "Bank statement")],
                db_default="webhook",
                default="webhook",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="operation_id",
            field=models.UUIDField(blank=True, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=models.Q(("operation_id__isnull", True)),
                fields=["payer_inn", "document_number"],
                name="payment_awaiting_webhook",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("source__in", ["webhook", "statement"])),
                name="payment_source_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("operation_id__isnull", False), ("source", "statement"), _connector="OR"
                ),
                name="payment_operation_id_unless_from_statement",
            ),
        ),
        SQL.install(
            "document_key",
            version=1,
            reverse_sql="DROP FUNCTION IF EXISTS webhooks_document_lock(text, text, date, numeric);"
            " DROP FUNCTION IF EXISTS webhooks_document_day(timestamptz, text);",
        ),
        SQL.install(
            "receive_payment",
            version=3,
            reverse_sql=f"DROP FUNCTION IF EXISTS webhooks_receive_payment({RECEIVE_PAYMENT_V3_SIGNATURE});",
        ),
        SQL.install(
            "book_statement_payment",
            version=1,
            reverse_sql="DROP FUNCTION IF EXISTS webhooks_book_statement_payment("
            "numeric, text, text, text, date, text, bigint[], text, integer);",
        ),
        SQL.install(
            "append_only",
            version=3,
            # Version 2 re-creates the payments' trigger on accounting_refuse_change first.
            reverse_sql="DROP TRIGGER IF EXISTS webhooks_payment_append_only ON webhooks_payment;"
            " DROP FUNCTION IF EXISTS webhooks_payment_change_check();",
        ),
    ]
