"""Closed journal days and their totals per account: a day an hour past its end is closed
once (accounting/sql/journal_days.sql), no entry may be posted into it afterwards
(entry_checks.sql version 3), and reports and statements read its totals, not its lines."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

from accounting.sql import SQL


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0009_plans_without_statistics"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountDayTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("debit", models.DecimalField(decimal_places=2, max_digits=38)),
                ("credit", models.DecimalField(decimal_places=2, max_digits=38)),
                ("lines", models.PositiveIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="ClosedDay",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False)),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField(unique=True)),
                (
                    "closed_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
            ],
            options={
                "ordering": ["day"],
            },
        ),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["posted_at"], name="entry_posted_at"),
        ),
        migrations.AddField(
            model_name="accountdaytotal",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounting.account",
            ),
        ),
        migrations.AddConstraint(
            model_name="closedday",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                name="closedday_not_empty",
            ),
        ),
        migrations.AddField(
            model_name="accountdaytotal",
            name="day",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="totals",
                to="accounting.closedday",
            ),
        ),
        migrations.AddConstraint(
            model_name="accountdaytotal",
            constraint=models.UniqueConstraint(
                fields=("account", "day"), name="accountdaytotal_unique"
            ),
        ),
        SQL.install(
            "journal_days",
            version=1,
            reverse_sql="DROP FUNCTION IF EXISTS accounting_journal_day_close(date, timestamptz,"
            " timestamptz);",
        ),
        SQL.install("entry_checks", version=3),
        SQL.install(
            "append_only",
            version=3,
            reverse_sql="DROP TRIGGER IF EXISTS accounting_closedday_kept ON accounting_closedday;"
            " DROP TRIGGER IF EXISTS accounting_accountdaytotal_kept"
            " ON accounting_accountdaytotal;",
        ),
    ]
