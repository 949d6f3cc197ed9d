from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = _("Reconciliation")

    # What the application's database role may do (common/roles.py): reports are kept.
    table_privileges = {"reconciliationreport": "SELECT, INSERT"}

    def ready(self):
        from common.metrics import scrape_collector_register
        from reconciliation.metrics import LastReconciliationCollector

        scrape_collector_register(LastReconciliationCollector())
