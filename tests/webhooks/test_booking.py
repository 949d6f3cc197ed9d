from decimal import Decimal

import pytest

from accounting.chart import UNIDENTIFIED_RECEIPTS
from accounting.models import BalanceChange, EntryKind, JournalEntry
from accounting.selectors import account_balance_get, account_get_by_code
from organizations.services import organization_create
from tests.factories import OrganizationFactory, WebhookPayloadFactory
from tests.webhooks.helpers import BRIEF_PAYLOAD, balance_of, post_webhook
from webhooks.models import Delivery, DeliveryResult, Payment

pytestmark = pytest.mark.django_db


def test_brief_scenario_books_once_and_repeat_changes_nothing(client):
    organization_create(inn="1234567890", name="Brief LLC")

    first = post_webhook(client, BRIEF_PAYLOAD)
    assert first.status_code == 200
    assert first.json()["result"] == "booked"
    assert balance_of(client, "1234567890").content == b'{"inn":"1234567890","balance":145000}'

    repeat = post_webhook(client, BRIEF_PAYLOAD)
    assert repeat.status_code == 200
    assert repeat.json()["result"] == "duplicate"
    assert balance_of(client, "1234567890").json() == {"inn": "1234567890", "balance": 145000}
    assert Payment.objects.count() == 1
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert list(Delivery.objects.order_by("id").values_list("result", flat=True)) == [
        DeliveryResult.BOOKED,
        DeliveryResult.DUPLICATE,
    ]


def test_payment_entry_debits_clearing_and_credits_the_organization(client):
    organization = OrganizationFactory(inn="1234567890")
    post_webhook(client, BRIEF_PAYLOAD)

    payment = Payment.objects.get()
    lines = {
        (line.account.code, line.side, line.amount.amount) for line in payment.entry.lines.all()
    }
    assert lines == {
        ("51", "D", Decimal("145000.00")),
        (organization.account.code, "C", Decimal("145000.00")),
    }
    assert payment.entry.reference == BRIEF_PAYLOAD["operation_id"]
    assert payment.entry.party == "1234567890"


def test_booking_writes_one_balance_change_for_the_organization(client):
    organization = OrganizationFactory(inn="1234567890")
    post_webhook(client, BRIEF_PAYLOAD)
    post_webhook(client, BRIEF_PAYLOAD)

    change = BalanceChange.objects.get()
    assert change.account == organization.account
    assert change.amount == Decimal("145000.00")
    assert change.dispatched_at is None


def test_unknown_inn_is_booked_to_unidentified_receipts(client):
    response = post_webhook(
        client, WebhookPayloadFactory(payer_inn="500100732259", amount="250.50")
    )

    assert response.status_code == 200
    assert response.json()["result"] == "unidentified"
    suspense = account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code)
    assert account_balance_get(account=suspense) == Decimal("250.50")
    assert balance_of(client, "500100732259").status_code == 404


def test_organization_created_later_receives_its_unidentified_receipts(client):
    post_webhook(client, WebhookPayloadFactory(payer_inn="500100732259", amount="250.50"))
    post_webhook(client, WebhookPayloadFactory(payer_inn="500100732259", amount="49.50"))
    post_webhook(client, WebhookPayloadFactory(payer_inn="7707083893", amount="10.00"))

    organization_create(inn="500100732259", name="Late Registered LLC")

    assert balance_of(client, "500100732259").json() == {"inn": "500100732259", "balance": 300}
    suspense = account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code)
    assert account_balance_get(account=suspense) == Decimal("10.00")
    assert JournalEntry.objects.filter(kind=EntryKind.RECLASSIFICATION).count() == 2


def test_payment_after_organization_exists_goes_straight_to_it(client):
    post_webhook(client, WebhookPayloadFactory(payer_inn="500100732259", amount="1.00"))
    organization_create(inn="500100732259", name="Late Registered LLC")
    post_webhook(client, WebhookPayloadFactory(payer_inn="500100732259", amount="2.00"))

    assert balance_of(client, "500100732259").json()["balance"] == 3
    assert JournalEntry.objects.filter(kind=EntryKind.RECLASSIFICATION).count() == 1


def test_repeat_with_different_amount_is_a_conflict_and_books_nothing(client):
    OrganizationFactory(inn="1234567890")
    post_webhook(client, BRIEF_PAYLOAD)

    response = post_webhook(client, {**BRIEF_PAYLOAD, "amount": 1})

    assert response.status_code == 200
    assert response.json()["result"] == "conflict"
    assert balance_of(client, "1234567890").json()["balance"] == 145000
    assert Payment.objects.count() == 1
    conflict = Delivery.objects.get(result=DeliveryResult.CONFLICT)
    assert conflict.payment == Payment.objects.get()
    assert '"amount": 1' in conflict.raw_body


def test_repeat_written_differently_but_equal_is_a_duplicate(client):
    OrganizationFactory(inn="1234567890")
    post_webhook(client, BRIEF_PAYLOAD)

    same_payment = {
        **BRIEF_PAYLOAD,
        "operation_id": BRIEF_PAYLOAD["operation_id"].upper(),
        "amount": "145000.00",
        "document_date": "2024-04-28T00:00:00+03:00",
    }
    response = post_webhook(client, same_payment)

    assert response.json()["result"] == "duplicate"


def test_decimal_amounts_add_up_exactly(client):
    OrganizationFactory(inn="1234567890")
    post_webhook(client, WebhookPayloadFactory(amount=Decimal("0.10")))
    post_webhook(client, WebhookPayloadFactory(amount=Decimal("0.20")))

    response = balance_of(client, "1234567890")

    assert response.content == b'{"inn":"1234567890","balance":0.30}'


def test_amount_as_numeric_string_is_accepted(client):
    OrganizationFactory(inn="1234567890")
    post_webhook(client, WebhookPayloadFactory(amount="99.99"))

    assert balance_of(client, "1234567890").content == b'{"inn":"1234567890","balance":99.99}'


def test_delivery_records_raw_body_and_chosen_headers(client):
    body = (
        '{"operation_id": "0b5b7b0e-8a39-4f0c-9c43-6a6c2f2b6c11", "amount": 5,'
        ' "payer_inn": "1234567890", "document_number": "A-1",'
        ' "document_date": "2024-04-27T21:00:00Z"}'
    )
    post_webhook(client, body, HTTP_USER_AGENT="BankBot/1.0", HTTP_X_REQUEST_ID="req-1")

    delivery = Delivery.objects.get()
    assert delivery.raw_body == body
    assert delivery.headers["User-Agent"] == "BankBot/1.0"
    assert delivery.headers["X-Request-Id"] == "req-1"
    assert delivery.result == DeliveryResult.UNIDENTIFIED
    assert delivery.http_status == 200


def test_a_booking_scans_no_table_sequentially_whatever_the_statistics(client):
    """The tables of this test database were never analyzed: the write path's plans must
    still reach every row through an index, so its cost does not grow with the tables."""
    from django.db import connection

    from tests.factories import OrganizationFactory, WebhookPayloadFactory

    OrganizationFactory(inn="1234567890")
    for _ in range(30):  # past PL/pgSQL's switch to cached generic plans
        post_webhook(client, WebhookPayloadFactory())
    scans = (
        "SELECT relname, seq_scan FROM pg_stat_xact_user_tables"
        " WHERE relname LIKE 'accounting_%' OR relname LIKE 'webhooks_%'"
        " OR relname LIKE 'organizations_%'"
    )
    with connection.cursor() as cursor:
        cursor.execute(scans)
        before = dict(cursor.fetchall())
        booked = post_webhook(client, WebhookPayloadFactory())
        repeat = post_webhook(client, {**BRIEF_PAYLOAD})
        again = post_webhook(client, {**BRIEF_PAYLOAD})
        cursor.execute(scans)
        after = dict(cursor.fetchall())

    assert [r.json()["result"] for r in (booked, repeat, again)] == [
        "booked",
        "booked",
        "duplicate",
    ]
    assert {table: after[table] - before.get(table, 0) for table in after} == dict.fromkeys(
        after, 0
    )
