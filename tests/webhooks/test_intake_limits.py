"""Limits at the intake: what is kept of anonymous rejections, throttling of rejecting
sources, source networks, and payments the books cannot take."""

import hashlib
import time
from decimal import Decimal

import pytest
from django.db import connection

from accounting.chart import UNIDENTIFIED_RECEIPTS
from accounting.selectors import account_balance_get, account_get_by_code
from accounting.services import account_balances_fold
from tests.factories import WebhookPayloadFactory
from tests.webhooks.helpers import BRIEF_PAYLOAD, dumps, post_webhook
from webhooks.models import Delivery, DeliveryResult, Payment
from webhooks.signatures import signature_compute
from webhooks.views import RejectedSourceThrottle

pytestmark = pytest.mark.django_db

SECRET = "bank-shared-secret-0123456789abcdef"


def _signed(body: str) -> dict:
    timestamp = str(int(time.time()))
    return {
        "HTTP_X_BANK_TIMESTAMP": timestamp,
        "HTTP_X_BANK_SIGNATURE": signature_compute(
            secret=SECRET, timestamp=timestamp, body=body.encode()
        ),
    }


@pytest.fixture
def signed_intake(settings):
    settings.WEBHOOK_SECRETS = [SECRET]
    settings.WEBHOOK_ALLOW_UNSIGNED = False


def test_unauthenticated_rejection_keeps_hash_length_and_2_kib(client, signed_intake):
    body = dumps({**BRIEF_PAYLOAD, "padding": "x" * 10_000})

    response = post_webhook(client, body, HTTP_USER_AGENT="u" * 5000)

    assert response.status_code == 401
    rejected = Delivery.objects.get()
    assert rejected.raw_body == body[:2048]
    assert rejected.body_length == len(body.encode())
    assert rejected.body_sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert rejected.body_truncated is True
    assert len(rejected.headers["User-Agent"]) == 512


def test_authenticated_rejection_keeps_the_whole_body(client, signed_intake):
    body = dumps({**BRIEF_PAYLOAD, "amount": -1, "padding": "x" * 10_000})

    response = post_webhook(client, body, **_signed(body))

    assert response.status_code == 400
    rejected = Delivery.objects.get()
    assert rejected.raw_body == body
    assert rejected.body_truncated is False


def test_a_rejecting_source_is_throttled_and_no_longer_recorded(
    client, signed_intake, monkeypatch
):
    monkeypatch.setattr(RejectedSourceThrottle, "rate", "3/min", raising=False)

    answers = [post_webhook(client, BRIEF_PAYLOAD).status_code for _ in range(5)]
    throttled = post_webhook(client, BRIEF_PAYLOAD)
    body = dumps(BRIEF_PAYLOAD)
    signed = post_webhook(client, body, **_signed(body))

    assert answers == [401, 401, 401, 429, 429]
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) >= 1
    assert Delivery.objects.filter(result=DeliveryResult.REJECTED).count() == 3
    assert signed.status_code == 200  # a valid signed delivery is never throttled


def test_sources_are_throttled_separately(client, signed_intake, monkeypatch):
    monkeypatch.setattr(RejectedSourceThrottle, "rate", "1/min", raising=False)

    first = post_webhook(client, BRIEF_PAYLOAD, REMOTE_ADDR="10.0.0.1").status_code
    again = post_webhook(client, BRIEF_PAYLOAD, REMOTE_ADDR="10.0.0.1").status_code
    other = post_webhook(client, BRIEF_PAYLOAD, REMOTE_ADDR="10.0.0.2").status_code

    assert (first, again, other) == (401, 429, 401)


def test_deliveries_from_outside_the_allowed_networks_are_a_recorded_403(client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["192.0.2.0/24"]

    outside = post_webhook(client, BRIEF_PAYLOAD, REMOTE_ADDR="198.51.100.7")
    inside = post_webhook(client, BRIEF_PAYLOAD, REMOTE_ADDR="192.0.2.10")

    assert outside.status_code == 403
    assert inside.status_code == 200
    rejected = Delivery.objects.get(result=DeliveryResult.REJECTED)
    assert (rejected.http_status, rejected.remote_addr) == (403, "198.51.100.7")


def test_client_address_comes_from_a_trusted_proxy_only(client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    via_proxy = post_webhook(
        client, BRIEF_PAYLOAD, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="192.0.2.10"
    )
    # A client naming itself in X-Forwarded-For, not through the proxy, is not believed;
    # nor is the left part of the header, which the client wrote.
    forged = post_webhook(
        client,
        WebhookPayloadFactory(),
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="192.0.2.10",
    )
    forged_left = post_webhook(
        client,
        WebhookPayloadFactory(),
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="192.0.2.10, 198.51.100.7",
    )

    assert (via_proxy.status_code, forged.status_code, forged_left.status_code) == (200, 403, 403)
    assert Delivery.objects.get(result=DeliveryResult.UNIDENTIFIED).remote_addr == "192.0.2.10"


def test_a_payment_the_database_refuses_is_a_recorded_422_and_books_nothing(client):
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "ALTER TABLE webhooks_payment ADD CONSTRAINT refuses_one_document"
            " CHECK (document_number <> 'REFUSE-ME')"
        )

    refused = post_webhook(client, {**BRIEF_PAYLOAD, "document_number": "REFUSE-ME"})
    accepted = post_webhook(client, WebhookPayloadFactory())

    assert refused.status_code == 422
    assert "cannot take this payment" in refused.json()["detail"]
    assert accepted.status_code == 200
    assert Payment.objects.count() == 1
    rejected = Delivery.objects.get(result=DeliveryResult.REJECTED)
    assert rejected.http_status == 422
    assert str(rejected.operation_id) == BRIEF_PAYLOAD["operation_id"]


def test_the_largest_payments_cannot_overflow_unidentified_receipts(client, settings):
    """120 payments of the largest amount a line can hold would have overflowed the
    balances' former numeric(20,2); every one is booked and the fold takes them all."""
    largest = Decimal("9999999999999999.99")
    settings.PAYMENT_MAX_AMOUNT = largest

    answers = {
        post_webhook(client, WebhookPayloadFactory(amount=largest, payer_inn="9900000001"))
        .json()["result"]
        for _ in range(120)
    }
    account_balances_fold()

    assert answers == {DeliveryResult.UNIDENTIFIED}
    suspense = account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code)
    assert account_balance_get(account=suspense) == largest * 120
