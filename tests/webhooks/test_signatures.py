"""Webhook signatures: two schemes, several secrets, and no header that can cause a 500."""

import time

import pytest
from django.core import checks

from tests.webhooks.helpers import BRIEF_PAYLOAD, dumps, post_webhook
from webhooks.models import Delivery, DeliveryResult, Payment
from webhooks.signatures import signature_compute, standard_headers_compute

pytestmark = pytest.mark.django_db

SECRET = "bank-shared-secret-0123456789abcdef"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.WEBHOOK_SECRETS = [SECRET, STANDARD_SECRET]
    settings.WEBHOOK_ALLOW_UNSIGNED = False


def _x_bank(body: str, *, secret=SECRET, at=None) -> dict:
    timestamp = str(int(time.time() if at is None else at))
    return {
        "HTTP_X_BANK_TIMESTAMP": timestamp,
        "HTTP_X_BANK_SIGNATURE": signature_compute(
            secret=secret, timestamp=timestamp, body=body.encode()
        ),
    }


def _standard(body: str, *, secret=STANDARD_SECRET, at=None) -> dict:
    headers = standard_headers_compute(
        secret=secret,
        msg_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        timestamp=int(time.time() if at is None else at),
        body=body.encode(),
    )
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


def test_x_bank_signature_of_a_literal_body_is_the_known_answer():
    # echo -n '1714251600.{"amount":1}' | openssl dgst -sha256 -hmac "$SECRET"
    assert signature_compute(secret=SECRET, timestamp="1714251600", body=b'{"amount":1}') == (
        "sha256=68345ffa976b872627cc1e293220be9835167d59a588cf649804fc38622450a0"
    )


def test_standard_webhooks_signature_is_the_specification_test_vector():
    # The example of the Standard Webhooks specification (and of Svix's documentation).
    headers = standard_headers_compute(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )

    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("sign", [_x_bank, _standard], ids=["x-bank", "standard-webhooks"])
def test_correctly_signed_delivery_is_booked(client, sign):
    body = dumps(BRIEF_PAYLOAD)

    response = post_webhook(client, body, **sign(body))

    assert response.status_code == 200
    assert Payment.objects.count() == 1


def test_a_secret_being_rotated_out_is_still_accepted(client, settings):
    settings.WEBHOOK_SECRETS = ["the-new-secret-0123456789abcdef", SECRET]
    body = dumps(BRIEF_PAYLOAD)

    response = post_webhook(client, body, **_x_bank(body, secret=SECRET))

    assert response.status_code == 200


def test_standard_header_with_several_signatures_matches_any(client):
    body = dumps(BRIEF_PAYLOAD)
    headers = _standard(body)
    headers["HTTP_WEBHOOK_SIGNATURE"] = "v1,bm90IGl0 " + headers["HTTP_WEBHOOK_SIGNATURE"]

    assert post_webhook(client, body, **headers).status_code == 200


def test_unsigned_delivery_is_401_and_recorded(client):
    response = post_webhook(client, BRIEF_PAYLOAD)

    assert response.status_code == 401
    assert "X-Bank-Signature" in response.json()["detail"]
    assert Payment.objects.count() == 0
    rejected = Delivery.objects.get()
    assert (rejected.result, rejected.http_status) == (DeliveryResult.REJECTED, 401)


@pytest.mark.parametrize("sign", [_x_bank, _standard], ids=["x-bank", "standard-webhooks"])
def test_signature_with_another_secret_is_401(client, sign):
    body = dumps(BRIEF_PAYLOAD)
    other = "whsec_" + "QW5vdGhlclNlY3JldEtleUZvclRlc3Rpbmc="

    response = post_webhook(client, body, **sign(body, secret=other))

    assert response.status_code == 401
    assert Payment.objects.count() == 0


def test_signature_of_another_body_is_401(client):
    signed = _x_bank(dumps(BRIEF_PAYLOAD))

    response = post_webhook(client, {**BRIEF_PAYLOAD, "amount": 999999}, **signed)

    assert response.status_code == 401
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("sign", [_x_bank, _standard], ids=["x-bank", "standard-webhooks"])
def test_stale_timestamp_is_401(client, sign):
    body = dumps(BRIEF_PAYLOAD)

    response = post_webhook(client, body, **sign(body, at=time.time() - 3600))

    assert response.status_code == 401
    assert Payment.objects.count() == 0


def test_signature_is_checked_before_the_body_is_parsed(client):
    response = post_webhook(client, "not json at all")

    assert response.status_code == 401


MALFORMED = {
    "x-bank non-ascii signature": {
        "HTTP_X_BANK_TIMESTAMP": "1",
        "HTTP_X_BANK_SIGNATURE": "sha256=é",
    },
    "x-bank signature of non-hex": {
        "HTTP_X_BANK_TIMESTAMP": str(int(time.time())),
        "HTTP_X_BANK_SIGNATURE": "sha256=" + "z" * 64,
    },
    "x-bank timestamp not a number": {
        "HTTP_X_BANK_TIMESTAMP": "NaN",
        "HTTP_X_BANK_SIGNATURE": "sha256=" + "0" * 64,
    },
    "x-bank timestamp huge": {
        "HTTP_X_BANK_TIMESTAMP": "9" * 400,
        "HTTP_X_BANK_SIGNATURE": "sha256=" + "0" * 64,
    },
    "x-bank header of 100 KiB": {
        "HTTP_X_BANK_TIMESTAMP": "1",
        "HTTP_X_BANK_SIGNATURE": "a" * 100_000,
    },
    "standard without version comma": {
        "HTTP_WEBHOOK_ID": "msg_1",
        "HTTP_WEBHOOK_TIMESTAMP": str(int(time.time())),
        "HTTP_WEBHOOK_SIGNATURE": "garbage",
    },
    "standard bad base64": {
        "HTTP_WEBHOOK_ID": "msg_1",
        "HTTP_WEBHOOK_TIMESTAMP": str(int(time.time())),
        "HTTP_WEBHOOK_SIGNATURE": "v1,@@@===",
    },
    "standard timestamp infinity": {
        "HTTP_WEBHOOK_ID": "msg_1",
        "HTTP_WEBHOOK_TIMESTAMP": "1e400",
        "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA",
    },
    "standard id non-ascii": {
        "HTTP_WEBHOOK_ID": "сообщение",
        "HTTP_WEBHOOK_TIMESTAMP": str(int(time.time())),
        "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA",
    },
    "standard missing id": {
        "HTTP_WEBHOOK_TIMESTAMP": str(int(time.time())),
        "HTTP_WEBHOOK_SIGNATURE": "v1,AAAA",
    },
}


@pytest.mark.parametrize("headers", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_signature_headers_are_a_recorded_401(client, headers):
    response = post_webhook(client, BRIEF_PAYLOAD, **headers)

    assert response.status_code == 401
    assert response.json()["detail"]
    rejected = Delivery.objects.get()
    assert (rejected.result, rejected.http_status) == (DeliveryResult.REJECTED, 401)
    assert all(len(value) <= 512 for value in rejected.headers.values())


def test_without_a_secret_deliveries_are_refused_unless_unsigned_is_allowed(client, settings):
    settings.WEBHOOK_SECRETS = []

    refused = post_webhook(client, BRIEF_PAYLOAD)
    settings.WEBHOOK_ALLOW_UNSIGNED = True
    allowed = post_webhook(client, BRIEF_PAYLOAD)

    assert refused.status_code == 401
    assert allowed.status_code == 200


def test_the_service_does_not_start_without_a_secret_when_debug_is_off(settings):
    settings.WEBHOOK_SECRETS = []
    settings.DEBUG = False

    errors = [e for e in checks.run_checks() if e.id == "webhooks.E001"]

    assert len(errors) == 1
    assert "WEBHOOK_SECRETS" in errors[0].msg


@pytest.mark.parametrize(
    ("secrets", "error"),
    [(["short"], "webhooks.E003"), (["whsec_@@@not-base64@@@"], "webhooks.E002")],
)
def test_weak_or_malformed_secrets_are_check_errors(settings, secrets, error):
    settings.WEBHOOK_SECRETS = secrets

    assert error in [e.id for e in checks.run_checks()]
