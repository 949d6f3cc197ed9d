import io
import subprocess
import sys
import urllib.request
from datetime import timedelta
from decimal import Decimal

import boto3
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook

from accounting.models import EntryKind, Side
from accounting.selectors import account_get_by_code
from accounting.services import LineSpec, journal_entry_post
from reconciliation.models import ReconciliationReport, ReportStatus
from reconciliation.services import reconciliation_report_create
from settings.celery import app
from tests.factories import OrganizationFactory, WebhookPayloadFactory
from tests.servers import free_port
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook
from tests.workers import wait_for

pytestmark = pytest.mark.django_db

BUCKET = "reports-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3-compatible server in its own process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:

        def up():
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(up, timeout=30, what="moto server")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "default_acl": None,
                "querystring_auth": True,
                "signature_version": "s3v4",
                "location": "reports",
            },
        },
    }
    yield client
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in objects:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def period():
    now = timezone.now()
    return now - timedelta(days=1), now + timedelta(minutes=1)


@pytest.fixture
def some_business(client):
    OrganizationFactory(inn="1234567890")
    post_webhook(client, BRIEF_PAYLOAD)
    post_webhook(client, WebhookPayloadFactory(amount=Decimal("0.10")))
    post_webhook(client, WebhookPayloadFactory(payer_inn="7707083893", amount=Decimal("5.55")))
    post_webhook(client, {**BRIEF_PAYLOAD, "amount": 1})  # a conflicting repeat


@pytest.mark.parametrize("full", [False, True], ids=["period", "full"])
def test_report_on_clean_books_is_ok_and_lists_open_items(some_business, period, full):
    report = reconciliation_report_create(period_start=period[0], period_end=period[1], full=full)

    assert report.status == ReportStatus.OK
    assert report.discrepancies == []
    totals = report.figures["totals"]
    assert totals["payments_period"] == totals["clearing_debits_period"] == "145005.65"
    if full:
        assert totals["payments_all_time"] == totals["clearing_debits_all_time"] == "145005.65"
    assert totals["period_debit"] == totals["period_credit"]
    assert totals["closing_balance"] == "0.00"
    [unidentified] = report.figures["unidentified_receipts"]
    assert (unidentified["inn"], unidentified["amount"]) == ("7707083893", "5.55")
    [conflict] = report.figures["conflicting_deliveries"]
    assert conflict["operation_id"] == BRIEF_PAYLOAD["operation_id"]
    clearing = next(r for r in report.figures["trial_balance"] if r["code"] == "51")
    assert (clearing["debit"], clearing["credit"], clearing["closing"]) == (
        "145005.65",
        "0",
        "145005.65",
    )


def test_a_later_period_lists_only_its_own_unallocated_receipts_and_full_lists_all(
    some_business,
):
    later = timezone.now() + timedelta(minutes=2), timezone.now() + timedelta(days=1)

    day = reconciliation_report_create(period_start=later[0], period_end=later[1])
    full = reconciliation_report_create(period_start=later[0], period_end=later[1], full=True)

    # The receipt from 7707083893 is still unallocated, but was posted before this period:
    # the day's report costs what the day holds; its sum is 76.UNID's balance.
    assert day.figures["unidentified_receipts"] == []
    suspense = next(r for r in day.figures["trial_balance"] if r["code"] == "76.UNID")
    assert suspense["closing"] == "-5.55"  # a credit balance, negative in the trial balance
    assert [i["inn"] for i in full.figures["unidentified_receipts"]] == ["7707083893"]


@pytest.mark.books_tampered
def test_tampered_cached_balance_is_a_discrepancy_naming_the_account(some_business, period, caplog):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounting_accountbalance (account_id, balance, updated_at)"
            " SELECT id, 1000, now() FROM accounting_account WHERE code = '62.1234567890'"
            " ON CONFLICT (account_id) DO UPDATE SET balance = accounting_accountbalance.balance + 1000"
        )

    report = reconciliation_report_create(period_start=period[0], period_end=period[1])

    assert report.status == ReportStatus.DISCREPANCY
    found = {item["check"]: item["rows"] for item in report.discrepancies}
    # The cache disagrees with the lines, and so the log with the balance the cache gives.
    assert found == {
        "cached_balance_drift": [["62.1234567890", "146000.10", "145000.10"]],
        "balance_change_log_drift": [["62.1234567890", "145000.10", "146000.10"]],
    }
    assert "DISCREPANCY" in caplog.text and "62.1234567890" in caplog.text


@pytest.mark.books_tampered
@pytest.mark.parametrize("full", [False, True], ids=["period", "full"])
def test_payment_without_its_entry_is_a_discrepancy(some_business, period, full):
    # The daily checks read the period's entries; --full's read everything, in other SQL.
    manual = journal_entry_post(
        kind=EntryKind.MANUAL,
        memo="not a payment",
        lines=[
            LineSpec(account=account_get_by_code(code="51"), side=Side.DEBIT, amount=Decimal("50")),
            LineSpec(
                account=account_get_by_code(code="76.UNID"), side=Side.CREDIT, amount=Decimal("50")
            ),
        ],
    )
    with connection.cursor() as cursor:
        # A payment row that points at an entry that is not its payment entry.
        cursor.execute(
            "INSERT INTO webhooks_payment (operation_id, amount, amount_currency, payer_inn,"
            " document_number, document_date, payload_hash, entry_id, received_at)"
            " VALUES (gen_random_uuid(), 99.99, 'RUB', '1234567890', 'FORGED', now(), 'x', %s,"
            " now())",
            [manual.pk],
        )

    report = reconciliation_report_create(period_start=period[0], period_end=period[1], full=full)

    assert report.status == ReportStatus.DISCREPANCY
    checks = {item["check"]: item["rows"] for item in report.discrepancies}
    assert set(checks) == {"payment_entry_mismatch", "clearing_differs_from_payments"}
    [mismatch] = checks["payment_entry_mismatch"]
    assert mismatch[1:] == ["99.99", "manual", "50.00"]
    assert checks["clearing_differs_from_payments"] == [["145005.65", "145105.64"]]


def test_report_files_are_stored_in_s3_and_read_back(some_business, period, s3_storage):
    report = reconciliation_report_create(period_start=period[0], period_end=period[1])

    keys = {o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {f"reports/{report.csv_file.name}", f"reports/{report.xlsx_file.name}"} == keys
    stored = ReconciliationReport.objects.get(pk=report.pk)
    csv_text = stored.csv_file.open("rb").read().decode()
    assert "report,status,ok" in csv_text
    assert "trial_balance,51,0,145005.65,0,145005.65,Bank clearing" in csv_text
    assert "unidentified," in csv_text and "7707083893,5.55" in csv_text
    book = load_workbook(io.BytesIO(stored.xlsx_file.open("rb").read()))
    assert book.sheetnames == [
        "Сводка", "Оборотно-сальдовая ведомость", "Расхождения", "Невыясненные поступления",
        "Конфликтующие повторы", "Банковская выписка", "Разбор выписки",
    ]  # fmt: skip
    rows = list(book["Оборотно-сальдовая ведомость"].iter_rows(values_only=True))
    assert rows[1][:4] == ("51", "Bank clearing", "asset", "RUB")
    assert "X-Amz-Signature" in stored.csv_file.url  # private object, signed URL


@pytest.mark.books_tampered
def test_reconcile_command_exits_nonzero_on_discrepancy(some_business):
    call_command("reconcile", "--from", "2000-01-01", "--to", "2100-01-01")
    assert ReconciliationReport.objects.get().status == ReportStatus.OK

    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounting_accountbalance SET balance = balance + 1")
        cursor.execute(
            "INSERT INTO accounting_accountbalance (account_id, balance) SELECT id, 1"
            " FROM accounting_account WHERE id NOT IN"
            " (SELECT account_id FROM accounting_accountbalance)"
        )
    with pytest.raises(SystemExit) as exit_info:
        call_command("reconcile", "--from", "2000-01-01")
    assert exit_info.value.code == 1


def test_admin_runs_and_serves_reports(admin_client, some_business):
    app.conf.task_always_eager = True
    try:
        response = admin_client.post("/admin/reconciliation/reconciliationreport/run/")
    finally:
        app.conf.task_always_eager = False

    assert response.status_code == 302
    report = ReconciliationReport.objects.get()
    listing = admin_client.get("/admin/reconciliation/reconciliationreport/")
    assert "Запустить сверку сейчас" in listing.text
    assert f"/admin/reconciliation/reconciliationreport/{report.pk}/download/csv/" in listing.text
    download = admin_client.get(
        f"/admin/reconciliation/reconciliationreport/{report.pk}/download/xlsx/"
    )
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert admin_client.get("/admin/reconciliation/reconciliationreport/run/").status_code == 405
