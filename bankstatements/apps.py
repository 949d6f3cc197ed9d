from django.apps import AppConfig


class BankStatementsConfig(AppConfig):
    name = "bankstatements"
    verbose_name = "Bank statements"

    def ready(self):
        from bankstatements.receivers import connect

        connect()
