"""Booking what the webhooks missed, exactly once across both sources."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from accounting.models import EntryKind, JournalEntry
from bankstatements.models import LineStatus
from bankstatements.services import statement_lines_book, statement_lines_bookable
from organizations.selectors import organization_balance_get
from tests.bankstatements.files import Doc, statement_bytes
from tests.bankstatements.helpers import import_statement, webhook_for
from tests.factories import OrganizationFactory
from webhooks.models import Delivery, DeliveryResult, Payment, PaymentSource

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
INN = "7707083893"


@pytest.fixture
def accountant():
    return User.objects.create_user("accountant", is_staff=True)


def _statement(*docs, **kwargs):
    return import_statement(statement_bytes(list(docs), start=TODAY, **kwargs)).statement


def test_statement_only_line_is_booked_to_the_organization_with_user_and_line(accountant):
    OrganizationFactory(inn=INN)
    statement = _statement(Doc("328", TODAY, Decimal("145000.00"), payer_inn=INN))

    summary = statement_lines_book(lines=statement.lines.all(), booked_by=accountant)

    assert (summary.booked, summary.already_booked, summary.skipped) == (1, 0, [])
    line = statement.lines.get()
    assert line.booked and line.status == LineStatus.STATEMENT_ONLY
    assert (line.booked_by, line.booked_at is not None) == (accountant, True)
    payment = line.payment
    assert (payment.source, payment.operation_id) == (PaymentSource.STATEMENT, None)
    assert (payment.payer_inn, payment.document_number, payment.amount.amount) == (
        INN, "328", Decimal("145000.00")
    )  # fmt: skip
    assert timezone.localtime(payment.document_date).date() == TODAY
    entry = payment.entry
    assert entry.kind == EntryKind.PAYMENT and entry.created_by == accountant
    assert f"bank statement #{statement.pk}" in entry.reason and "line 1" in entry.reason
    assert {(ln.account.code, ln.side) for ln in entry.lines.all()} == {
        ("51", "D"),
        (f"62.{INN}", "C"),
    }
    assert organization_balance_get(inn=INN) == Decimal("145000.00")


def test_line_of_an_unknown_inn_is_booked_to_unidentified_receipts(accountant):
    statement = _statement(Doc("9", TODAY, Decimal("42.00"), payer_inn="500100732259"))

    statement_lines_book(lines=statement.lines.all(), booked_by=accountant)

    entry = statement.lines.get().payment.entry
    assert {(ln.account.code, ln.side) for ln in entry.lines.all()} == {
        ("51", "D"),
        ("76.UNID", "C"),
    }


def test_booking_a_line_twice_books_it_once(accountant):
    statement = _statement(Doc("9", TODAY, Decimal("42.00")))
    statement_lines_book(lines=statement.lines.all(), booked_by=accountant)

    again = statement_lines_book(lines=statement.lines.all(), booked_by=accountant)

    assert again.booked == 0
    [(_, why)] = again.skipped
    assert "not an unbooked statement-only line" in why
    assert Payment.objects.count() == 1


def test_later_webhook_of_a_booked_line_books_nothing_and_gives_its_operation_id(
    client, accountant
):
    OrganizationFactory(inn=INN)
    statement = _statement(Doc("328", TODAY, Decimal("145000.00"), payer_inn=INN))
    statement_lines_book(lines=statement.lines.all(), booked_by=accountant)

    payload, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))

    line = statement.lines.get()
    assert answer["result"] == "duplicate" and answer["payment_id"] == line.payment_id
    assert str(line.payment.operation_id) == payload["operation_id"]
    assert Delivery.objects.get().result == DeliveryResult.DUPLICATE
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert organization_balance_get(inn=INN) == Decimal("145000.00")


def test_line_for_a_payment_a_webhook_booked_books_nothing(client, accountant):
    # The webhook arrives after the import (no matching ran since): booking finds it.
    statement = _statement(Doc("328", TODAY, Decimal("145000.00")))
    _, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))

    summary = statement_lines_book(lines=statement.lines.all(), booked_by=accountant)

    assert (summary.booked, summary.already_booked) == (0, 1)
    line = statement.lines.get()
    assert (line.status, line.payment_id, line.booked_by) == ("matched", answer["payment_id"], None)
    assert Payment.objects.count() == 1


def test_matched_lines_are_not_booked(client, accountant):
    webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))
    statement = _statement(Doc("328", TODAY, Decimal("145000.00")))

    summary = statement_lines_book(lines=statement.lines.all(), booked_by=accountant)

    assert summary.booked == 0 and len(summary.skipped) == 1
    assert Payment.objects.count() == 1


def test_two_identical_lines_are_two_payments_and_two_webhooks_bind_one_each(client, accountant):
    doc = Doc("5", TODAY, Decimal("10.00"))
    statement = _statement(doc, doc)

    assert statement_lines_book(lines=statement.lines.all(), booked_by=accountant).booked == 2
    _, first = webhook_for(client, number="5", day=TODAY, amount=Decimal("10.00"))
    _, second = webhook_for(client, number="5", day=TODAY, amount=Decimal("10.00"))

    assert (first["result"], second["result"]) == ("duplicate", "duplicate")
    assert first["payment_id"] != second["payment_id"]
    assert Payment.objects.filter(operation_id__isnull=True).count() == 0
    assert Payment.objects.count() == 2


def test_line_of_a_superseded_version_is_not_booked(accountant):
    old = _statement(Doc("9", TODAY, Decimal("42.00")))
    new = _statement(Doc("9", TODAY, Decimal("42.00")), Doc("10", TODAY, Decimal("1.00")))

    summary = statement_lines_book(lines=old.lines.all(), booked_by=accountant)

    assert summary.booked == 0
    assert "newer statement version" in summary.skipped[0][1]
    assert statement_lines_book(lines=new.lines.all(), booked_by=accountant).booked == 2


def test_auto_book_books_statement_only_lines_at_import(settings, client):
    settings.BANK_STATEMENT_AUTO_BOOK = True
    webhook_for(client, number="1", day=TODAY, amount=Decimal("1.00"))

    result = import_statement(
        statement_bytes(
            [Doc("1", TODAY, Decimal("1.00")), Doc("2", TODAY, Decimal("2.00"))], start=TODAY
        )
    )

    assert result.booked == 1 and "1 booked automatically" in result.message
    assert not statement_lines_bookable(statement=result.statement).exists()
    booked = result.statement.lines.get(number="2")
    assert booked.booked and "automatically at import" in booked.payment.entry.reason
    assert Payment.objects.count() == 2
