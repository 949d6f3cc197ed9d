from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"

    # What the application's database role may do (common/roles.py): reports are kept.
    table_privileges = {"reconciliationreport": "SELECT, INSERT"}
