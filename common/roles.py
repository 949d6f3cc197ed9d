"""The application's PostgreSQL role: exactly the privileges the service needs, no more.

Migrations run as the tables' owner (DATABASE_OWNER_URL in `bin/service prepare`); the
service connects as another role (DATABASE_URL) that is not a superuser. After every
`migrate`, the owner grants that role (DATABASE_APP_ROLE) the privileges each app declares
on its AppConfig:

- `table_privileges`: {model name: privileges}, e.g. "SELECT, INSERT" for append-only
  books, or "SELECT, INSERT, UPDATE (dispatched_at)"; a model an app does not list gets
  SELECT, INSERT, UPDATE and DELETE;
- `function_privileges`: functions revoked from PUBLIC that the role may execute.

The role may also read `django_migrations`, as commands that check for unapplied migrations
(createsuperuser) do.

Every grant is re-applied from scratch (REVOKE ALL first), so a privilege removed from a
declaration is removed from the database. TRUNCATE is never granted.
"""

import logging

from django.apps import apps
from django.db import connection as default_connection
from django.db.migrations.recorder import MigrationRecorder

logger = logging.getLogger(__name__)

DEFAULT_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def declared_table_privileges() -> dict[str, str]:
    """{table name: privileges} for every table of every installed app's models."""
    declared = {}
    for app_config in apps.get_app_configs():
        own = getattr(app_config, "table_privileges", {})
        for model in app_config.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            declared[model._meta.db_table] = own.get(
                model._meta.model_name, DEFAULT_TABLE_PRIVILEGES
            )
    return declared


def declared_function_privileges() -> list[str]:
    return [
        signature
        for app_config in apps.get_app_configs()
        for signature in getattr(app_config, "function_privileges", [])
    ]


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def database_role_grant(*, role: str, connection=default_connection) -> None:
    """Give `role` exactly the declared privileges on the current database (idempotent)."""
    quoted = _quote(connection, role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            raise ValueError(f"DATABASE_APP_ROLE {role!r} does not exist on the server")
        if row[0]:
            raise ValueError(f"DATABASE_APP_ROLE {role!r} is a superuser")
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
        cursor.execute(f"GRANT CONNECT ON DATABASE {_quote(connection, database)} TO {quoted}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}")
        for table, privileges in sorted(declared_table_privileges().items()):
            cursor.execute(f"GRANT {privileges} ON {_quote(connection, table)} TO {quoted}")
        # Which migrations are applied (no app's model): management commands that check for
        # unapplied migrations first, createsuperuser among them, read it.
        migrations = MigrationRecorder.Migration._meta.db_table
        cursor.execute(f"GRANT SELECT ON {_quote(connection, migrations)} TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for signature in declared_function_privileges():
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {quoted}")
    logger.info("Granted the application's privileges to %s", role)


def post_migrate_grant(sender, using="default", **kwargs) -> None:
    """post_migrate receiver: grant DATABASE_APP_ROLE its privileges once all apps migrated."""
    from django.conf import settings
    from django.db import connections

    last = [config for config in apps.get_app_configs() if config.models_module][-1]
    if sender.name != last.name or not settings.DATABASE_APP_ROLE:
        return
    database_role_grant(role=settings.DATABASE_APP_ROLE, connection=connections[using])


def connected_as_owner(connection=default_connection) -> bool:
    """Whether `connection` is the owner migrating for another role (DATABASE_APP_ROLE)."""
    from django.conf import settings

    if not settings.DATABASE_APP_ROLE:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (user,) = cursor.fetchone()
    return user != settings.DATABASE_APP_ROLE


def role_problems(connection=default_connection) -> list[str]:
    """What is wrong with the role `connection` is logged in as, for the application: a
    superuser, or an UPDATE, DELETE or TRUNCATE privilege that no app declares."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
        if superuser:
            return [f"the application connects as {user}, a superuser"]
        for table, privileges in sorted(declared_table_privileges().items()):
            table_wide = {p.strip().split(" ")[0] for p in privileges.split(",") if "(" not in p}
            for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
                if privilege in table_wide:
                    continue
                cursor.execute(
                    "SELECT to_regclass(%s) IS NOT NULL AND has_table_privilege(%s, %s)",
                    [table, table, privilege],
                )
                if cursor.fetchone()[0]:
                    problems.append(f"{user} may {privilege} {table}, which no app declares")
    return problems
