from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Bank webhooks")

    # What the application's database role may do (common/roles.py): payments and
    # deliveries are insert-only; rejected deliveries leave only through the purge function.
    table_privileges = {
        "payment": "SELECT, INSERT, UPDATE (operation_id, payload_hash)",
        "delivery": "SELECT, INSERT",
        "deliverypurge": "SELECT",
    }
    function_privileges = ["webhooks_rejected_deliveries_purge(integer)"]

    def ready(self):
        from webhooks import checks  # noqa: F401  (registers the system checks)
