"""`webhooks_receive_payment` version 2 no longer returns the balance-change ids: the
dispatch after commit takes every pending change, so the booking saves a query."""

from django.db import migrations

from webhooks.sql import SQL


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0003_bank_imitation")]

    operations = [SQL.install("receive_payment", version=2)]
