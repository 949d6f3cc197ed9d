from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """Only deliveries without a payment index their operation_id: the others are found
    through their payment, whose operation_id is unique, so a booking stops writing a second
    index of the bank's random ids. Built and dropped concurrently, while intake runs."""

    atomic = False

    dependencies = [
        ("webhooks", "0010_translated_names"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(payment__isnull=True),
                fields=["operation_id"],
                name="delivery_unbooked_operation",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="operation_id",
                    field=models.UUIDField(blank=True, null=True, verbose_name="operation id"),
                ),
            ],
            database_operations=[
                # The index Django named for the field's db_index=True (0001).
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS webhooks_delivery_operation_id_df876723",
                    reverse_sql="CREATE INDEX CONCURRENTLY webhooks_delivery_operation_id_df876723"
                    " ON webhooks_delivery (operation_id)",
                ),
            ],
        ),
    ]
