"""Known-answer vectors: literal headers, checked by the verifier the webhook view calls.

Each expected header was computed outside this code base (the `openssl dgst` line beside
it; for Standard Webhooks, the vector of its specification's libraries), so a change to
how the service signs or verifies shows up here even if signing and verifying change
together.
"""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import standardwebhooks.webhooks

from tests.webhooks.helpers import post_webhook
from webhooks import signatures
from webhooks.exceptions import SignatureError
from webhooks.models import Payment
from webhooks.signatures import signature_compute, signature_verify, standard_headers_compute

X_BANK_SECRET = "bank-shared-secret-0123456789abcdef"
AT = 1714251600  # 2024-04-27T21:00:00Z
BRIEF_BODY = (
    b'{"operation_id":"ccf0a86d-041b-4991-bcf7-e2352f7b8a4a","amount":145000,'
    b'"payer_inn":"1234567890","document_number":"PAY-328",'
    b'"document_date":"2024-04-27T21:00:00Z"}'
)
# (secret, timestamp, body, X-Bank-Signature), each from:
#   printf '%s' "<timestamp>.<body>" | openssl dgst -sha256 -hmac "<secret>"
# or, for a whsec_ secret (its key is the base64-decoded bytes):
#   ... | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf %s <base64> | base64 -d | xxd -p)
X_BANK_VECTORS = [
    pytest.param(
        X_BANK_SECRET, "1714251600", b'{"amount":1}',
        "sha256=68345ffa976b872627cc1e293220be9835167d59a588cf649804fc38622450a0",
        id="short-body",
    ),
    pytest.param(
        X_BANK_SECRET, "1714251600", BRIEF_BODY,
        "sha256=454135dafeae432f4f566bae6147a023ab5ad4074462f5e5f6b8bb90cb25da63",
        id="brief-payment",
    ),
    pytest.param(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "1714251600", BRIEF_BODY,
        "sha256=186c58dd37e69883385886b527fac26aee0107b10d0cd13285feff1da3cd63a5",
        id="whsec-secret",
    ),
]  # fmt: skip

# The test vector of the Standard Webhooks libraries (standard-webhooks/standard-webhooks,
# libraries/*/tests: test_sign_function, test_invalid_signature_raises_error,
# test_multi_sig_payload_is_valid).
STANDARD = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    "wrong_signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    "decoys": [
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    ],
}


def _x_bank_headers(timestamp: str, signature: str) -> dict:
    return {"X-Bank-Timestamp": timestamp, "X-Bank-Signature": signature}


def _standard_headers(signature: str) -> dict:
    return {
        "webhook-id": STANDARD["id"],
        "webhook-timestamp": str(STANDARD["timestamp"]),
        "webhook-signature": signature,
    }


@pytest.fixture
def standard_clock(monkeypatch):
    """The Standard Webhooks package's clock stopped at the vector's timestamp (its
    verifier allows five minutes either side of now and takes no `now` argument)."""

    class StoppedClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(STANDARD["timestamp"], tz or UTC)

    monkeypatch.setattr(standardwebhooks.webhooks, "datetime", StoppedClock)


@pytest.mark.parametrize(("secret", "timestamp", "body", "header"), X_BANK_VECTORS)
def test_x_bank_vector_is_signed_and_verified_as_the_known_answer(secret, timestamp, body, header):
    assert signature_compute(secret=secret, timestamp=timestamp, body=body) == header
    signature_verify(
        secrets=[secret], headers=_x_bank_headers(timestamp, header), body=body,
        tolerance=300, now=int(timestamp),
    )  # fmt: skip


@pytest.mark.parametrize(("secret", "timestamp", "body", "header"), X_BANK_VECTORS)
def test_x_bank_vector_fails_with_one_digit_body_byte_or_second_changed(
    secret, timestamp, body, header
):
    flipped = header[:-1] + ("0" if header[-1] != "0" else "1")
    cases = [
        (timestamp, flipped, body),
        (timestamp, header, body[:-1] + b" "),
        (str(int(timestamp) + 1), header, body),
    ]
    for stamp, signature, signed_body in cases:
        with pytest.raises(SignatureError, match="X-Bank-Signature does not match the body"):
            signature_verify(
                secrets=[secret], headers=_x_bank_headers(stamp, signature), body=signed_body,
                tolerance=300, now=int(timestamp),
            )  # fmt: skip


def test_standard_vector_is_signed_as_the_specification_says():
    headers = standard_headers_compute(
        secret=STANDARD["secret"],
        msg_id=STANDARD["id"],
        timestamp=STANDARD["timestamp"],
        body=STANDARD["body"],
    )

    assert headers == _standard_headers(STANDARD["signature"])


def test_standard_vector_is_verified(standard_clock):
    signature_verify(
        secrets=[STANDARD["secret"]],
        headers=_standard_headers(STANDARD["signature"]),
        body=STANDARD["body"],
        tolerance=300,
    )


def test_standard_vector_among_decoy_signatures_is_verified(standard_clock):
    decoys = STANDARD["decoys"]
    header = " ".join([decoys[0], decoys[1], STANDARD["signature"], decoys[0]])

    signature_verify(
        secrets=[STANDARD["secret"]], headers=_standard_headers(header), body=STANDARD["body"],
        tolerance=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("signature", "body"),
    [
        pytest.param(STANDARD["wrong_signature"], STANDARD["body"], id="last-bit-changed"),
        pytest.param(STANDARD["signature"], b'{"test": 2432232315}', id="body-changed"),
        pytest.param(" ".join(STANDARD["decoys"]), STANDARD["body"], id="only-decoys"),
    ],
)
def test_standard_vector_changed_is_refused(standard_clock, signature, body):
    with pytest.raises(SignatureError, match="webhook-signature"):
        signature_verify(
            secrets=[STANDARD["secret"]], headers=_standard_headers(signature), body=body,
            tolerance=300,
        )  # fmt: skip


@pytest.mark.django_db
def test_the_webhook_endpoint_books_the_brief_payment_sent_with_the_literal_header(
    client, settings, monkeypatch
):
    settings.WEBHOOK_SECRETS = [X_BANK_SECRET]
    settings.WEBHOOK_ALLOW_UNSIGNED = False
    settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = 300
    monkeypatch.setattr(signatures, "time", SimpleNamespace(time=lambda: AT + 60.0))

    response = post_webhook(
        client, BRIEF_BODY, HTTP_X_BANK_TIMESTAMP=str(AT),
        HTTP_X_BANK_SIGNATURE="sha256=454135dafeae432f4f566bae6147a023ab5ad4074462f5e5f6b8bb90cb25da63",
    )  # fmt: skip

    assert response.status_code == 200, response.content
    assert Payment.objects.get().operation_id.hex == "ccf0a86d041b4991bcf7e2352f7b8a4a"
