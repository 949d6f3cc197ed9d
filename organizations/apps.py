from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organizations")

    # What the application's database role may do (common/roles.py): an organization's INN
    # and account never change.
    table_privileges = {"organization": "SELECT, INSERT, UPDATE (name)"}

    def ready(self):
        from organizations import schema  # noqa: F401  (registers the Swagger auth scheme)
