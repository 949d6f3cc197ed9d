"""Matching statement lines to payments on the document key."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from bankstatements.models import LineStatus
from bankstatements.selectors import bank_statement_days_get, statement_summary_get
from settings.celery import app
from tests.bankstatements.files import Doc, statement_bytes
from tests.bankstatements.helpers import import_statement, webhook_for
from webhooks.models import Payment

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - timezone.timedelta(days=1)


def _lines(statement):
    return {(line.number, line.payer_inn): line for line in statement.lines.all()}


def test_line_with_a_webhook_payment_of_its_document_is_matched(client):
    _, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))

    statement = import_statement(
        statement_bytes([Doc("328", TODAY, Decimal("145000.00"))], start=TODAY)
    ).statement

    [line] = statement.lines.all()
    assert (line.status, line.payment_id) == (LineStatus.MATCHED, answer["payment_id"])


@pytest.mark.parametrize(
    "differs",
    [{"amount": Decimal("145000.01")}, {"inn": "7728168971"}, {"number": "329"},
     {"day": YESTERDAY}],
    ids=["amount", "inn", "number", "date"],
)  # fmt: skip
def test_line_differing_in_any_part_of_the_key_is_statement_only(client, differs):
    fields = {"number": "328", "day": TODAY, "amount": Decimal("145000.00"), **differs}
    webhook_for(client, **fields)

    statement = import_statement(
        statement_bytes([Doc("328", TODAY, Decimal("145000.00"))], start=TODAY)
    ).statement

    assert statement.lines.get().status == LineStatus.STATEMENT_ONLY


def test_two_documents_sharing_number_and_date_match_their_own_payments(client):
    _, first = webhook_for(
        client, number="55", day=TODAY, amount=Decimal("100.00"), inn="7707083893"
    )
    _, second = webhook_for(
        client, number="55", day=TODAY, amount=Decimal("250.00"), inn="7728168971"
    )
    _, third = webhook_for(
        client, number="55", day=TODAY, amount=Decimal("100.00"), inn="7728168971"
    )
    docs = [
        Doc("55", TODAY, Decimal("250.00"), payer_inn="7728168971"),
        Doc("55", TODAY, Decimal("100.00"), payer_inn="7707083893"),
        Doc("55", TODAY, Decimal("100.00"), payer_inn="7728168971"),
    ]

    statement = import_statement(statement_bytes(docs, start=TODAY)).statement

    assert [(line.status, line.payment_id) for line in statement.lines.order_by("position")] == [
        (LineStatus.MATCHED, second["payment_id"]),
        (LineStatus.MATCHED, first["payment_id"]),
        (LineStatus.MATCHED, third["payment_id"]),
    ]


def test_several_payments_of_one_document_make_the_line_ambiguous(client):
    _, one = webhook_for(client, number="7", day=TODAY, amount=Decimal("10.00"))
    _, other = webhook_for(client, number="7", day=TODAY, amount=Decimal("10.00"))

    statement = import_statement(
        statement_bytes([Doc("7", TODAY, Decimal("10.00"))], start=TODAY)
    ).statement

    line = statement.lines.get()
    assert (line.status, line.payment_id) == (LineStatus.AMBIGUOUS, None)
    assert line.candidates == [one["payment_id"], other["payment_id"]]


def _payment_that_arrived_yesterday(client) -> int:
    """A payment of document 7 whose webhook arrived a day ago (its row says so)."""
    _, answer = webhook_for(client, number="7", day=YESTERDAY, amount=Decimal("10.00"))
    payment = Payment.objects.get(pk=answer["payment_id"])
    with connection.cursor() as cursor:
        # Backdate its arrival; the append-only trigger refuses any UPDATE, so the table's
        # owner switches it off for this one statement.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE needs no pending checks
        cursor.execute("ALTER TABLE webhooks_payment DISABLE TRIGGER webhooks_payment_append_only")
        cursor.execute(
            "UPDATE webhooks_payment SET received_at = received_at - interval '1 day' WHERE id = %s",
            [payment.pk],
        )
        cursor.execute(
            "ALTER TABLE webhooks_payment ENABLE ALWAYS TRIGGER webhooks_payment_append_only"
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return payment.pk


def test_receipt_date_breaks_a_tie_between_candidates(client):
    early = _payment_that_arrived_yesterday(client)
    _, late = webhook_for(client, number="7", day=YESTERDAY, amount=Decimal("10.00"))
    docs = [
        Doc("7", YESTERDAY, Decimal("10.00"), received_on=TODAY),
        Doc("7", YESTERDAY, Decimal("10.00"), received_on=YESTERDAY),
    ]

    statement = import_statement(statement_bytes(docs, start=YESTERDAY, end=TODAY)).statement

    assert [(line.status, line.payment_id) for line in statement.lines.order_by("position")] == [
        (LineStatus.MATCHED, late["payment_id"]),
        (LineStatus.MATCHED, early),
    ]


def test_webhook_payment_of_a_covered_day_that_no_line_shows_is_webhook_only(client):
    _, matched = webhook_for(client, number="1", day=TODAY, amount=Decimal("1.00"))
    _, lost = webhook_for(client, number="2", day=TODAY, amount=Decimal("2.00"))

    statement = import_statement(
        statement_bytes([Doc("1", TODAY, Decimal("1.00"))], start=TODAY)
    ).statement

    summary = statement_summary_get(statement=statement)
    assert [p.pk for p in summary.webhook_only] == [lost["payment_id"]]
    assert summary.figures["webhook_only"].total == Decimal("2.00")
    assert summary.figures["matched"].count == 1
    assert summary.status == "open items"
    assert Payment.objects.filter(pk=lost["payment_id"]).exists()  # never reversed


def test_webhook_for_a_statement_only_line_matches_it_when_it_arrives(
    client, django_capture_on_commit_callbacks
):
    statement = import_statement(
        statement_bytes([Doc("328", TODAY, Decimal("145000.00"))], start=TODAY)
    ).statement
    assert statement.lines.get().status == LineStatus.STATEMENT_ONLY

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))
    finally:
        app.conf.task_always_eager = False

    line = statement.lines.get()
    assert (line.status, line.payment_id) == (LineStatus.MATCHED, answer["payment_id"])


def test_totals_that_differ_from_the_lines_are_a_mismatch():
    raw = statement_bytes(
        [Doc("1", TODAY, Decimal("1.00"))], start=TODAY, total_received=Decimal("101.00")
    )

    summary = statement_summary_get(statement=import_statement(raw).statement)

    [check] = summary.totals
    assert (check.stated, check.lines, check.ok) == (Decimal("101.00"), Decimal("1.00"), False)
    assert not summary.totals_ok


def test_day_report_counts_and_sums_per_status(client):
    webhook_for(client, number="1", day=TODAY, amount=Decimal("1.00"))
    docs = [
        Doc("1", TODAY, Decimal("1.00")),
        Doc("2", TODAY, Decimal("2.50")),
        Doc("3", TODAY, Decimal("4.00"), incoming=False),
    ]
    import_statement(statement_bytes(docs, start=TODAY))

    yesterday_report, today_report = bank_statement_days_get(first=YESTERDAY, last=TODAY)

    assert not yesterday_report.covered
    assert today_report.covered
    figures = {name: (f.count, f.total) for name, f in today_report.figures.items()}
    assert figures["matched"] == (1, Decimal("1.00"))
    assert figures["statement_only_unbooked"] == (1, Decimal("2.50"))
    assert figures["outgoing"] == (1, Decimal("4.00"))
    assert [line.number for line in today_report.unmatched] == ["2"]
    assert all(check.ok for check in today_report.totals)


def test_a_webhook_whose_booking_missed_the_rematch_is_matched_by_the_periodic_sweep(
    client, monkeypatch
):
    from bankstatements import services
    from bankstatements.services import statements_rematch_open

    statement = import_statement(
        statement_bytes([Doc("328", TODAY, Decimal("145000.00"))], start=TODAY)
    ).statement
    # This process last read the open days before the import, and still trusts that read.
    monkeypatch.setattr(services, "_open_days", (services.time.monotonic(), frozenset()))
    _, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))
    assert statement.lines.get().status == LineStatus.STATEMENT_ONLY

    assert statements_rematch_open() == 1

    line = statement.lines.get()
    assert (line.status, line.payment_id) == (LineStatus.MATCHED, answer["payment_id"])
