from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = _("Reconciliation")

    # What the application's database role may do (common/roles.py): reports are kept.
    table_privileges = {"reconciliationreport": "SELECT, INSERT"}
