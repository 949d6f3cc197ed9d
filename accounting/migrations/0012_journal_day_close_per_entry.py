"""Closing a journal day reads each of the day's entries' lines by index, whatever the
planner's statistics (accounting/sql/journal_days.sql version 2)."""

from django.db import migrations

from accounting.sql import SQL


class Migration(migrations.Migration):
    dependencies = [("accounting", "0011_translated_names")]

    operations = [SQL.install("journal_days", version=2)]
