"""System checks of the deployment that belong to no single app."""

from django.conf import settings
from django.core import checks
from django.db import connections


@checks.register(checks.Tags.database)
def database_role_check(app_configs=None, databases=None, **kwargs):
    """Run by `manage.py check --database default` (bin/service prepare does, connected as
    the application): the service must not connect as a superuser or as a role that may
    change the books. Skipped for the owner's own connection when DATABASE_APP_ROLE names
    another role (migrate runs the database checks too)."""
    if not databases or "default" not in databases:
        return []
    if settings.DEBUG or settings.DATABASE_ALLOW_SUPERUSER:
        return []
    from common.roles import connected_as_owner, role_problems

    if connected_as_owner(connections["default"]):
        return []  # migrating as the owner, for DATABASE_APP_ROLE: the owner may do anything
    return [
        checks.Error(
            f"DATABASE_URL: {problem}.",
            hint="Connect as the application's role (see DATABASE_OWNER_URL in .env_example); "
            "DATABASE_ALLOW_SUPERUSER=true allows it, for development only.",
            id="common.E001",
        )
        for problem in role_problems(connections["default"])
    ]


@checks.register(checks.Tags.security)
def metrics_access_check(app_configs=None, **kwargs):
    """METRICS_ALLOWED_NETWORKS must be CIDRs: a bad one would fail every scrape."""
    from common.network import networks

    try:
        networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    except ValueError as exc:
        return [checks.Error(f"METRICS_ALLOWED_NETWORKS: {exc}.", id="common.E002")]
    return []
