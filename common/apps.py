from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    """Helpers every app uses: the API's JSON plumbing, request ids, probes, admin helpers,
    day bounds, table exports, the SQL-file loader and the database role's grants. No
    models."""

    name = "common"
    verbose_name = _("Common")

    def ready(self):
        from common import checks  # noqa: F401  (registers the system checks)
        from common.roles import post_migrate_grant

        post_migrate.connect(post_migrate_grant, dispatch_uid="common.roles.grant")
