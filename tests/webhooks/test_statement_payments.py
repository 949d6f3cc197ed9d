"""Payments booked from the bank statement, and the webhook that arrives for them later."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from accounting.models import EntryKind, JournalEntry
from organizations.selectors import organization_balance_get
from tests.factories import OrganizationFactory
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook
from webhooks.models import Delivery, DeliveryResult, Payment, PaymentSource
from webhooks.services import DocumentKey, statement_payment_book

pytestmark = pytest.mark.django_db

# The brief's payment: 2024-04-27T21:00:00Z is 28.04.2024 in Moscow.
BRIEF_KEY = DocumentKey("1234567890", "PAY-328", date(2024, 4, 28), Decimal("145000.00"))


def _book(key=BRIEF_KEY, claimed=(), user=None):
    return statement_payment_book(
        key=key, claimed=claimed, reason="statement line 1", created_by=user
    )


def test_statement_payment_is_booked_like_a_webhook_payment_without_operation_id():
    organization = OrganizationFactory(inn="1234567890")
    user = User.objects.create_user("accountant")

    booking = _book(user=user)

    payment = Payment.objects.get(pk=booking.payment_id)
    assert booking.result == "booked"
    assert (payment.source, payment.operation_id, payment.payload_hash) == (
        PaymentSource.STATEMENT, None, ""
    )  # fmt: skip
    assert payment.amount.amount == Decimal("145000.00")
    lines = {(ln.account.code, ln.side, ln.amount.amount) for ln in payment.entry.lines.all()}
    assert lines == {
        ("51", "D", Decimal("145000.00")),
        ("62.1234567890", "C", Decimal("145000.00")),
    }
    assert (payment.entry.kind, payment.entry.created_by, payment.entry.reason) == (
        EntryKind.PAYMENT, user, "statement line 1"
    )  # fmt: skip
    assert organization_balance_get(inn=organization.inn) == Decimal("145000.00")


def test_statement_payment_of_an_unknown_inn_goes_to_unidentified_receipts():
    booking = _book()

    assert booking.result == "unidentified"
    entry = JournalEntry.objects.get(pk=booking.entry_id)
    assert {(ln.account.code, ln.side) for ln in entry.lines.all()} == {
        ("51", "D"),
        ("76.UNID", "C"),
    }
    assert entry.party == "1234567890"


def test_later_webhook_books_nothing_and_gives_the_payment_its_operation_id(client):
    OrganizationFactory(inn="1234567890")
    booking = _book()

    response = post_webhook(client, BRIEF_PAYLOAD)

    assert response.status_code == 200
    assert response.json() == {
        "result": "duplicate",
        "operation_id": BRIEF_PAYLOAD["operation_id"],
        "payment_id": booking.payment_id,
    }
    payment = Payment.objects.get()
    assert str(payment.operation_id) == BRIEF_PAYLOAD["operation_id"]
    assert payment.source == PaymentSource.STATEMENT
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    delivery = Delivery.objects.get()
    assert (delivery.result, delivery.payment_id) == (DeliveryResult.DUPLICATE, payment.pk)
    assert organization_balance_get(inn="1234567890") == Decimal("145000.00")


def test_repeats_after_the_operation_id_was_taken_are_duplicates_or_conflicts(client):
    _book()
    post_webhook(client, BRIEF_PAYLOAD)

    repeat = post_webhook(client, BRIEF_PAYLOAD)
    conflicting = post_webhook(client, {**BRIEF_PAYLOAD, "amount": 1})

    assert repeat.json()["result"] == "duplicate"
    assert conflicting.json()["result"] == "conflict"
    assert Payment.objects.count() == 1


def test_webhook_of_another_document_is_booked_as_a_new_payment(client):
    _book()

    response = post_webhook(client, {**BRIEF_PAYLOAD, "document_number": "PAY-329"})

    assert response.json()["result"] == "unidentified"
    assert Payment.objects.count() == 2


def test_statement_booking_of_a_payment_a_webhook_booked_books_nothing(client):
    post_webhook(client, BRIEF_PAYLOAD)

    booking = _book()

    assert booking.result == "existing"
    assert booking.payment_id == Payment.objects.get().pk
    assert JournalEntry.objects.count() == 1


def test_statement_booking_passes_over_payments_claimed_by_other_lines(client):
    post_webhook(client, BRIEF_PAYLOAD)
    first = Payment.objects.get()

    booking = _book(claimed=[first.pk])

    assert booking.result == "unidentified"
    assert Payment.objects.count() == 2


def _sql(statement: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_missing_operation_id_can_be_set_once_and_then_never_changed():
    payment_id = _book().payment_id

    _sql(
        "UPDATE webhooks_payment SET operation_id = gen_random_uuid(), payload_hash = 'h'"
        " WHERE id = %s",
        [payment_id],
    )

    with pytest.raises(DatabaseError, match="only a missing operation_id may be set, once"):
        _sql(
            "UPDATE webhooks_payment SET operation_id = gen_random_uuid() WHERE id = %s",
            [payment_id],
        )
    assert Payment.objects.get(pk=payment_id).payload_hash == "h"


@pytest.mark.parametrize(
    "assignment",
    [
        "amount = amount + 1",
        "payer_inn = '7707083893'",
        "document_number = 'X'",
        "source = 'webhook'",
    ],
)
def test_setting_the_operation_id_cannot_change_anything_else(assignment):
    payment_id = _book().payment_id

    with pytest.raises(DatabaseError, match="append-only"):
        _sql(
            f"UPDATE webhooks_payment SET operation_id = gen_random_uuid(), {assignment}"
            " WHERE id = %s",
            [payment_id],
        )
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(f"UPDATE webhooks_payment SET {assignment} WHERE id = %s", [payment_id])


def test_webhook_payments_stay_unchangeable(client):
    post_webhook(client, BRIEF_PAYLOAD)

    with pytest.raises(DatabaseError, match="append-only"):
        _sql("UPDATE webhooks_payment SET operation_id = gen_random_uuid()")
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("DELETE FROM webhooks_payment")
    assert str(Payment.objects.get().operation_id) == BRIEF_PAYLOAD["operation_id"]
