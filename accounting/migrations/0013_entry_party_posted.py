from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """The party index gains posted_at, so an organization's latest payment is one backward
    index probe. Built concurrently: the journal keeps taking bookings meanwhile."""

    atomic = False

    dependencies = [
        ("accounting", "0012_journal_day_close_per_entry"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="journalentry",
            index=models.Index(fields=["party", "posted_at"], name="entry_party_posted"),
        ),
        RemoveIndexConcurrently(model_name="journalentry", name="entry_party"),
    ]
