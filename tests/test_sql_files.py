"""The SQL in `<app>/sql/` is what the database runs, and no migration holds a function body."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounting.sql import SQL as ACCOUNTING_SQL
from common.sql import function_bodies, render, sql_literal, triggers
from webhooks.sql import SQL as WEBHOOKS_SQL

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"accounting": ACCOUNTING_SQL, "webhooks": WEBHOOKS_SQL}
CURRENT = [(app, name) for app, folder in FOLDERS.items() for name in folder.items()]


def test_placeholders_become_literals_of_the_python_values():
    from accounting.chart import UNIDENTIFIED_RECEIPTS
    from common.locks import LockNamespace
    from webhooks.models import DeliveryResult

    names = {"U": UNIDENTIFIED_RECEIPTS, "R": DeliveryResult, "L": LockNamespace}

    assert render("{{ U.code }} {{R.CONFLICT}} {{ L.OPERATION }}", names) == "'76.UNID' 'conflict' 2"
    assert sql_literal(("a", "b'c")) == "'a', 'b''c'"
    with pytest.raises(KeyError, match="unknown SQL placeholder"):
        render("{{ NOPE }}", names)


@pytest.mark.parametrize(("app", "name"), CURRENT)
def test_every_current_file_renders_and_declares_its_version(app, name):
    folder = FOLDERS[app]

    text = folder.text(name)

    assert folder.current_version(name) >= 1
    assert "{{" not in text and "}}" not in text
    for version in range(1, folder.current_version(name)):
        assert folder.text(name, version)  # every earlier version a migration may reverse to


def _assert_installed(app: str, name: str) -> None:
    """The database holds exactly the functions and triggers of the current file."""
    text = FOLDERS[app].text(name)
    with connection.cursor() as cursor:
        for function, body in function_bodies(text).items():
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [function])
            installed = [row[0] for row in cursor.fetchall()]
            assert installed == [body], f"{function} differs from {app}/sql/{name}.sql"
        for trigger, table in triggers(text):
            cursor.execute(
                "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [trigger, table],
            )
            assert cursor.fetchone() is not None, f"trigger {trigger} on {table} is missing"


@pytest.mark.django_db
@pytest.mark.parametrize(("app", "name"), CURRENT)
def test_the_database_runs_the_current_version_of_every_file(app, name):
    _assert_installed(app, name)


@pytest.mark.django_db
def test_no_trigger_of_the_books_is_left_to_pgtrigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger_%'"
        )
        assert cursor.fetchall() == []


def test_no_migration_holds_a_function_body():
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/migrations/*.py")
        if re.search(r"\$\$|LANGUAGE plpgsql|\bBEGIN\b.*\bEND\b", path.read_text(), re.S)
    ]

    assert offenders == []


@pytest.mark.django_db(transaction=True)
def test_migrations_reverse_to_the_previous_release_and_apply_again():
    """From the schema of the previous release (accounting 0005, webhooks 0005) forward to
    the latest migrations, back again, and forward: each step applies cleanly."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    previous = [("webhooks", "0005_trim_indexes"), ("accounting", "0005_trim_indexes")]

    executor.migrate(previous)
    executor.loader.build_graph()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgtrigger_%'")
        assert cursor.fetchone()[0] > 0  # the previous release's triggers are back
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    executor.loader.build_graph()

    assert MigrationExecutor(connection).migration_plan(latest) == []
    for app, name in CURRENT:
        _assert_installed(app, name)
