from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """Only manual entries index their reference: a payment's entry is found through the
    payment's unique operation_id, so a booking stops writing a second index of the bank's
    random ids. Built and dropped concurrently, while the journal takes bookings."""

    atomic = False

    dependencies = [
        ("accounting", "0013_entry_party_posted"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="journalentry",
            index=models.Index(
                condition=models.Q(kind="manual"),
                fields=["reference"],
                name="entry_manual_reference",
            ),
        ),
        RemoveIndexConcurrently(model_name="journalentry", name="entry_reference"),
    ]
