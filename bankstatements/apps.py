from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BankStatementsConfig(AppConfig):
    name = "bankstatements"
    verbose_name = _("Bank statements")

    def ready(self):
        from bankstatements.receivers import connect

        connect()
