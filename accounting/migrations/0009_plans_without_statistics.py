"""The write path's functions plan without sequential scans (SET enable_seqscan = off), so
a booking costs the same whether or not the tables have been analyzed since they grew."""

from django.db import migrations

from accounting.sql import SQL


class Migration(migrations.Migration):
    dependencies = [("accounting", "0008_balance_after_at_dispatch")]

    operations = [
        SQL.install("post_entry", version=2),
        SQL.install("entry_checks", version=2),
        SQL.install("lines_to_deltas", version=3),
    ]
