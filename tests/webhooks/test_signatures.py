import time

import pytest

from tests.webhooks.helpers import BRIEF_PAYLOAD, dumps, post_webhook
from webhooks.models import Delivery, DeliveryResult, Payment
from webhooks.signatures import signature_compute

pytestmark = pytest.mark.django_db

SECRET = "bank-shared-secret"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.WEBHOOK_SECRET = SECRET


def _signed_headers(body: str, *, secret=SECRET, at=None):
    timestamp = str(int(time.time() if at is None else at))
    return {
        "HTTP_X_BANK_TIMESTAMP": timestamp,
        "HTTP_X_BANK_SIGNATURE": signature_compute(
            secret=secret, timestamp=timestamp, body=body.encode()
        ),
    }


def test_correctly_signed_delivery_is_booked(client):
    body = dumps(BRIEF_PAYLOAD)

    response = post_webhook(client, body, **_signed_headers(body))

    assert response.status_code == 200
    assert Payment.objects.count() == 1


def test_unsigned_delivery_is_401(client):
    response = post_webhook(client, BRIEF_PAYLOAD)

    assert response.status_code == 401
    assert "X-Bank-Signature" in response.json()["detail"]
    assert Payment.objects.count() == 0
    assert Delivery.objects.get().result == DeliveryResult.REJECTED


def test_signature_with_another_secret_is_401(client):
    body = dumps(BRIEF_PAYLOAD)

    response = post_webhook(client, body, **_signed_headers(body, secret="guess"))

    assert response.status_code == 401
    assert Payment.objects.count() == 0


def test_signature_of_another_body_is_401(client):
    signed = _signed_headers(dumps(BRIEF_PAYLOAD))

    response = post_webhook(client, {**BRIEF_PAYLOAD, "amount": 999999}, **signed)

    assert response.status_code == 401
    assert Payment.objects.count() == 0


def test_stale_timestamp_is_401(client):
    body = dumps(BRIEF_PAYLOAD)

    response = post_webhook(client, body, **_signed_headers(body, at=time.time() - 3600))

    assert response.status_code == 401
    assert "tolerance" in response.json()["detail"]


def test_signature_is_checked_before_the_body_is_parsed(client):
    response = post_webhook(client, "not json at all")

    assert response.status_code == 401
