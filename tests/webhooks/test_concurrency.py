"""Concurrent deliveries against the app under gunicorn: separate threads and connections."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import simplejson
from django.db import connection

from accounting.models import EntryKind, JournalEntry
from accounting.selectors import suspense_receipts_unallocated
from organizations.selectors import organization_balance_get
from organizations.services import organization_create
from tests.factories import WebhookPayloadFactory
from tests.http import http_request
from tests.webhooks.helpers import BRIEF_PAYLOAD, WEBHOOK_URL, dumps
from webhooks.models import Delivery, DeliveryResult, Payment

pytestmark = pytest.mark.django_db(transaction=True)

CONCURRENCY = 50


def _deliver_all(url: str, bodies: list[str]) -> list[tuple[int, dict]]:
    """POST every body at once: all threads start together behind a barrier."""
    barrier = threading.Barrier(len(bodies))

    def deliver(body: str):
        barrier.wait(timeout=30)
        status, _, content = http_request(url, body)
        return status, simplejson.loads(content)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(deliver, bodies))


def test_concurrent_identical_deliveries_book_exactly_once(app_server):
    organization_create(inn="1234567890", name="Brief LLC")

    answers = _deliver_all(app_server + WEBHOOK_URL, [dumps(BRIEF_PAYLOAD)] * CONCURRENCY)

    assert [status for status, _ in answers] == [200] * CONCURRENCY
    results = sorted(body["result"] for _, body in answers)
    assert results == ["booked"] + ["duplicate"] * (CONCURRENCY - 1)
    assert Payment.objects.count() == 1
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert Delivery.objects.count() == CONCURRENCY
    assert organization_balance_get(inn="1234567890") == Decimal("145000.00")


def test_concurrent_distinct_payments_are_all_booked(app_server):
    organization_create(inn="1234567890", name="Brief LLC")
    payloads = [
        WebhookPayloadFactory(amount=Decimal(f"{n}.{n % 100:02d}"))
        for n in range(1, CONCURRENCY + 1)
    ]

    answers = _deliver_all(app_server + WEBHOOK_URL, [dumps(p) for p in payloads])

    assert [status for status, _ in answers] == [200] * CONCURRENCY
    assert {body["result"] for _, body in answers} == {"booked"}
    assert Payment.objects.count() == CONCURRENCY
    expected = sum((p["amount"] for p in payloads), Decimal(0))
    assert organization_balance_get(inn="1234567890") == expected


def test_organization_created_during_deliveries_gets_every_payment(app_server):
    # Under load, whichever order the creation and each booking happen in; both orders are
    # forced one at a time in tests/organizations/test_creation_race.py.
    inn = "7707083893"
    payloads = [WebhookPayloadFactory(payer_inn=inn, amount=Decimal("10.01")) for _ in range(30)]
    created = threading.Event()

    def create_organization():
        try:
            organization_create(inn=inn, name="Registered Mid-Flight")
            created.set()
        finally:
            connection.close()

    creator = threading.Thread(target=create_organization)
    bodies = [dumps(p) for p in payloads]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first_half = pool.submit(_deliver_all, app_server + WEBHOOK_URL, bodies[:15])
        creator.start()
        second_half = pool.submit(_deliver_all, app_server + WEBHOOK_URL, bodies[15:])
        answers = first_half.result() + second_half.result()
    creator.join(timeout=60)

    assert created.is_set()
    assert [status for status, _ in answers] == [200] * 30
    assert organization_balance_get(inn=inn) == Decimal("300.30")
    assert not suspense_receipts_unallocated(party=inn).exists()


def test_delivery_results_are_recorded_for_every_attempt(app_server):
    payload = WebhookPayloadFactory(operation_id=str(uuid.uuid4()))
    conflicting = {**payload, "amount": Decimal("1.00")}

    _deliver_all(app_server + WEBHOOK_URL, [dumps(payload)] * 5)
    _deliver_all(app_server + WEBHOOK_URL, [dumps(conflicting)] * 3)

    results = list(Delivery.objects.values_list("result", flat=True))
    assert results.count(DeliveryResult.UNIDENTIFIED) == 1
    assert results.count(DeliveryResult.DUPLICATE) == 4
    assert results.count(DeliveryResult.CONFLICT) == 3
