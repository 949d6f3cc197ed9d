from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Accounting ledger")

    # What the application's database role may do (common/roles.py). Posted entries and
    # lines are insert-only; balance rows take what the write path and the fold need.
    table_privileges = {
        "account": "SELECT, INSERT, UPDATE (name)",
        "journalentry": "SELECT, INSERT",
        "journalline": "SELECT, INSERT",
        "accountbalance": "SELECT, INSERT, UPDATE (balance, updated_at)",
        "balancedelta": "SELECT, INSERT, DELETE",
        "balancechange": "SELECT, INSERT, UPDATE (dispatched_at, balance_after)",
        "loggedbalance": "SELECT, INSERT, UPDATE (balance)",
        "closedday": "SELECT, INSERT",
        "accountdaytotal": "SELECT, INSERT",
    }

    def ready(self):
        from accounting.metrics import BalanceBacklogCollector
        from common.metrics import scrape_collector_register

        scrape_collector_register(BalanceBacklogCollector())
