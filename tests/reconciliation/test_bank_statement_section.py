"""The daily report's bank-statement section: the books against the bank's own statement."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bankstatements.services import statement_lines_book
from common.dates import local_midnight
from reconciliation.models import ReportStatus
from reconciliation.services import reconciliation_report_create
from tests.bankstatements.files import Doc, statement_bytes
from tests.bankstatements.helpers import import_statement, webhook_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def statement_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def _report_for_today():
    start = local_midnight(TODAY)
    return reconciliation_report_create(period_start=start, period_end=start + timedelta(days=1))


def _checks(report) -> dict:
    return {item["check"]: item["rows"] for item in report.discrepancies}


def test_day_without_a_statement_is_reported_as_not_covered(client):
    webhook_for(client, number="1", day=TODAY, amount=Decimal("1.00"))

    report = _report_for_today()

    [day] = report.figures["bank_statement"]
    assert (day["day"], day["covered"], day["statement"]) == (TODAY.isoformat(), False, None)
    assert report.status == ReportStatus.OK


def test_covered_day_where_everything_matches_is_ok_with_counts_and_sums(client):
    webhook_for(client, number="1", day=TODAY, amount=Decimal("1.00"))
    webhook_for(client, number="2", day=TODAY, amount=Decimal("2.50"))
    docs = [Doc("1", TODAY, Decimal("1.00")), Doc("2", TODAY, Decimal("2.50")),
            Doc("3", TODAY, Decimal("7.00"), incoming=False)]  # fmt: skip
    statement = import_statement(statement_bytes(docs, start=TODAY)).statement

    report = _report_for_today()

    assert report.status == ReportStatus.OK, report.discrepancies
    [day] = report.figures["bank_statement"]
    assert (day["covered"], day["statement"]) == (True, statement.pk)
    assert day["figures"]["matched"] == {"count": 2, "total": "3.50"}
    assert day["figures"]["outgoing"] == {"count": 1, "total": "7.00"}
    assert day["unmatched_lines"] == [] and day["webhook_only"] == []
    assert [t["ok"] for t in day["totals"]] == [True]


def test_unbooked_statement_only_line_is_a_discrepancy_until_booked():
    statement = import_statement(
        statement_bytes([Doc("5", TODAY, Decimal("42.00"))], start=TODAY)
    ).statement

    report = _report_for_today()

    assert report.status == ReportStatus.DISCREPANCY
    line = statement.lines.get()
    assert _checks(report) == {
        "bank_statement_unbooked_lines": [
            [TODAY.isoformat(), str(statement.pk), "1", "5", "7707083893", "42.00"]
        ]
    }
    assert report.figures["bank_statement"][0]["unmatched_lines"][0]["line"] == line.pk

    statement_lines_book(lines=[line])
    booked = _report_for_today()

    assert booked.status == ReportStatus.OK, booked.discrepancies
    figures = booked.figures["bank_statement"][0]["figures"]
    assert figures["statement_only_booked"] == {"count": 1, "total": "42.00"}


def test_webhook_only_payment_is_a_discrepancy(client):
    _, lost = webhook_for(client, number="9", day=TODAY, amount=Decimal("9.99"))
    import_statement(statement_bytes([], start=TODAY))

    report = _report_for_today()

    assert report.status == ReportStatus.DISCREPANCY
    [row] = _checks(report)["bank_statement_webhook_only"]
    assert row[:3] == [TODAY.isoformat(), str(lost["payment_id"]), lost["operation_id"]]
    assert b"webhook_only," in report.csv_file.open("rb").read()


def test_totals_that_differ_from_the_lines_are_a_discrepancy(client):
    webhook_for(client, number="1", day=TODAY, amount=Decimal("1.00"))
    raw = statement_bytes(
        [Doc("1", TODAY, Decimal("1.00"))], start=TODAY, total_received=Decimal("100.00")
    )
    statement = import_statement(raw).statement

    report = _report_for_today()

    assert _checks(report) == {
        "bank_statement_totals_mismatch": [[TODAY.isoformat(), str(statement.pk), "100.00", "1.00"]]
    }


def test_a_long_period_lists_only_its_covered_days():
    import_statement(statement_bytes([], start=TODAY))

    report = reconciliation_report_create(
        period_start=local_midnight(TODAY - timedelta(days=400)),
        period_end=local_midnight(TODAY + timedelta(days=1)),
    )

    assert [day["day"] for day in report.figures["bank_statement"]] == [TODAY.isoformat()]
