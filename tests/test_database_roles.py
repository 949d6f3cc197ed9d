"""Least privilege in PostgreSQL: the role the service connects as cannot change posted rows,
truncate them or switch the triggers off; rejected deliveries leave only through the audited
purge. (It may rewrite cached balances, as the fold must: reconciliation checks those.)"""

import os
import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from common.roles import role_problems
from tests.factories import OrganizationFactory, WebhookPayloadFactory
from tests.servers import ROOT, database_url_of
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook
from webhooks.models import Delivery, DeliveryPurge, DeliveryResult
from webhooks.services import rejected_deliveries_purge

pytestmark = pytest.mark.django_db(transaction=True)

BOOKS = [
    "accounting_journalentry",
    "accounting_journalline",
    "webhooks_payment",
    "webhooks_delivery",
]


def _as_app_role():
    """A raw session logged in as the application's role."""
    return psycopg.connect(
        database_url_of(connection.settings_dict).replace("postgres://", "postgresql://", 1),
        autocommit=True,
    )


@pytest.fixture
def booked(client):
    OrganizationFactory(inn="1234567890")
    post_webhook(client, BRIEF_PAYLOAD)
    post_webhook(client, {**BRIEF_PAYLOAD, "amount": -1})  # a rejected delivery too


def test_the_application_role_is_not_a_superuser_and_has_only_declared_privileges(booked):
    with _as_app_role() as conn:
        user, superuser = conn.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        privileges = {
            (table, privilege): conn.execute(
                "SELECT has_table_privilege(%s, %s)", [table, privilege]
            ).fetchone()[0]
            for table in BOOKS
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
        }

    assert (user, superuser) == (settings.DATABASE_APP_ROLE, False)
    for table in BOOKS:
        assert privileges[(table, "SELECT")] and privileges[(table, "INSERT")]
        assert not any(privileges[(table, p)] for p in ("UPDATE", "DELETE", "TRUNCATE"))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounting_journalline SET amount = amount + 1",
        "DELETE FROM accounting_journalline",
        "UPDATE accounting_journalentry SET memo = 'edited'",
        "TRUNCATE accounting_journalentry CASCADE",
        "UPDATE webhooks_payment SET amount = 1",
        "DELETE FROM webhooks_delivery",
        "UPDATE accounting_accountbalance SET account_id = account_id",
        "ALTER TABLE accounting_journalline DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
    ],
)
def test_the_application_role_cannot_change_posted_rows_even_with_every_trigger_ignored(
    booked, statement
):
    with _as_app_role() as conn:
        triggers = conn.execute(
            "SELECT coalesce(array_agg(tgname), '{}') FROM pg_trigger WHERE NOT tgisinternal"
        ).fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(
                "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(triggers) + "}"]
            )
            conn.execute(statement)


def test_the_application_role_cannot_commit_an_unbalanced_entry(booked):
    with _as_app_role() as conn:
        clearing, organization = (
            conn.execute("SELECT id FROM accounting_account WHERE code = %s", [code]).fetchone()[0]
            for code in ("51", "62.1234567890")
        )
        with pytest.raises(psycopg.errors.CheckViolation, match="unbalanced"), conn.transaction():
            conn.execute(
                "SELECT accounting_post_entry('manual', 'raw', '', '', %s, %s, %s, %s)",
                [[clearing, organization], ["D", "C"], ["10.00", "9.99"], ["RUB", "RUB"]],
            )


def test_the_application_role_creates_the_superuser_and_only_reads_the_migrations(booked):
    """createsuperuser checks for unapplied migrations first, as `bin/service prepare` runs it
    (and the README's `manage.py createsuperuser`), connected as the application's role."""
    done = subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url_of(connection.settings_dict),
            "DJANGO_SUPERUSER_USERNAME": "operator",
            "DJANGO_SUPERUSER_PASSWORD": "a-long-password-of-the-operator",
            "DJANGO_SUPERUSER_EMAIL": "operator@example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(username="operator").is_superuser
    with _as_app_role() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("DELETE FROM django_migrations")
        assert conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0


def test_role_problems_name_a_superuser_connection_and_none_for_the_application_role(booked):
    assert role_problems(connection) == [
        f"the application connects as {connection.settings_dict['USER'] or 'postgres'}, a superuser"
    ]


def test_database_check_refuses_a_superuser_connection(settings):
    settings.DATABASE_ALLOW_SUPERUSER = False
    settings.DATABASE_APP_ROLE = ""  # the service itself connected as the superuser

    with pytest.raises(SystemCheckError, match="common.E001"):
        call_command("check", databases=["default"])

    settings.DATABASE_ALLOW_SUPERUSER = True
    call_command("check", databases=["default"])  # the development switch


def test_purge_removes_only_old_rejected_deliveries_and_records_the_run(client, booked):
    post_webhook(client, WebhookPayloadFactory(amount=0))  # a second, recent rejection
    old = timezone.now() - timedelta(days=91)
    first_rejected = Delivery.objects.filter(result=DeliveryResult.REJECTED).order_by("id")[0]
    with connection.cursor() as cursor:  # as the owner: back-date two deliveries
        cursor.execute(
            "ALTER TABLE webhooks_delivery DISABLE TRIGGER webhooks_delivery_append_only"
        )
        cursor.execute(
            "UPDATE webhooks_delivery SET received_at = %s WHERE id IN (%s, %s)",
            [old, first_rejected.pk, Delivery.objects.get(result=DeliveryResult.BOOKED).pk],
        )
        cursor.execute(
            "ALTER TABLE webhooks_delivery ENABLE ALWAYS TRIGGER webhooks_delivery_append_only"
        )

    with _as_app_role() as conn:
        (deleted,) = conn.execute("SELECT webhooks_rejected_deliveries_purge(90)").fetchone()

    assert deleted == 1
    assert not Delivery.objects.filter(pk=first_rejected.pk).exists()
    assert Delivery.objects.filter(result=DeliveryResult.BOOKED).count() == 1  # kept, however old
    assert Delivery.objects.filter(result=DeliveryResult.REJECTED).count() == 1  # the recent one
    run = DeliveryPurge.objects.get()
    assert (run.deleted, run.database_user) == (1, settings.DATABASE_APP_ROLE)
    assert rejected_deliveries_purge() == 0


def test_no_one_deletes_a_booked_delivery_nor_purges_with_a_short_retention(booked):
    with (
        pytest.raises(DatabaseError, match="only rejected deliveries"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM webhooks_delivery WHERE result = 'booked'")  # even the owner
    with pytest.raises(DatabaseError, match="at least one day"), transaction.atomic():
        rejected_deliveries_purge(older_than_days=0)
    assert DeliveryPurge.objects.count() == 0


def test_database_check_lets_the_owner_migrate_for_the_application_role(settings):
    settings.DATABASE_ALLOW_SUPERUSER = False

    call_command("check", databases=["default"])  # connected as the owner, not the app
