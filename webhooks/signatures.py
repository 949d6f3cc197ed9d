"""Signatures of webhook bodies: HMAC-SHA256 with any of WEBHOOK_SECRETS, in either scheme.

- **X-Bank**: `X-Bank-Timestamp: <unix seconds>` and
  `X-Bank-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, the timestamp
  within WEBHOOK_SIGNATURE_TOLERANCE_SECONDS of now.
- **Standard Webhooks** (https://www.standardwebhooks.com, the `standardwebhooks` package):
  `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
  "<id>.<timestamp>.<raw body>">` (several space-separated signatures allowed), the
  timestamp within the specification's five minutes.

A secret's key is, for a Standard Webhooks secret `whsec_<base64>`, the decoded bytes;
for any other secret its UTF-8 bytes. Every configured secret is tried, so a new secret can
be added before the bank switches to it and the old one removed after. Any malformed header
is a SignatureError, never an exception of another kind.
"""

import base64
import binascii
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

from webhooks.exceptions import SignatureError

TIMESTAMP_HEADER = "X-Bank-Timestamp"
SIGNATURE_HEADER = "X-Bank-Signature"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
SIGNATURE_HEADERS = (
    TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
    STANDARD_ID_HEADER,
    STANDARD_TIMESTAMP_HEADER,
    STANDARD_SIGNATURE_HEADER,
)

_STANDARD_PREFIX = "whsec_"
_TIMESTAMP = re.compile(r"\A[0-9]{1,12}\Z")
_X_BANK_SIGNATURE = re.compile(r"\Asha256=([0-9a-fA-F]{64})\Z")
_HEADER_LIMIT = 1024


def secret_key(secret: str) -> bytes:
    """The HMAC key of a configured secret."""
    if secret.startswith(_STANDARD_PREFIX):
        try:
            return base64.b64decode(secret[len(_STANDARD_PREFIX) :] + "==", validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a whsec_ secret must be base64 after its prefix") from exc
    return secret.encode()


def signature_compute(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-Bank-Signature header of `body` sent at `timestamp`."""
    digest = hmac.new(secret_key(secret), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def standard_headers_compute(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict:
    """The Standard Webhooks headers of `body` (which must be UTF-8, as JSON is)."""
    signature = Webhook(secret_key(secret)).sign(
        msg_id=msg_id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=body.decode()
    )
    return {
        STANDARD_ID_HEADER: msg_id,
        STANDARD_TIMESTAMP_HEADER: str(timestamp),
        STANDARD_SIGNATURE_HEADER: signature,
    }


def _x_bank_verify(secrets, headers, body: bytes, tolerance: int, now: float) -> None:
    timestamp = headers.get(TIMESTAMP_HEADER) or ""
    signature = headers.get(SIGNATURE_HEADER) or ""
    if not timestamp or not signature:
        raise SignatureError(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required.")
    if not _TIMESTAMP.match(timestamp):
        raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix seconds.")
    if abs(now - int(timestamp)) > tolerance:
        raise SignatureError(f"{TIMESTAMP_HEADER} is outside the {tolerance}s tolerance.")
    match = _X_BANK_SIGNATURE.match(signature)
    if match is None:
        raise SignatureError(f"{SIGNATURE_HEADER} must be sha256=<64 hex digits>.")
    given = bytes.fromhex(match.group(1))
    for secret in secrets:
        expected = hmac.new(
            secret_key(secret), timestamp.encode() + b"." + body, hashlib.sha256
        ).digest()
        if hmac.compare_digest(expected, given):
            return
    raise SignatureError(f"{SIGNATURE_HEADER} does not match the body.")


def _standard_verify(secrets, headers, body: bytes) -> None:
    wanted = (STANDARD_ID_HEADER, STANDARD_TIMESTAMP_HEADER, STANDARD_SIGNATURE_HEADER)
    values = {name: headers.get(name) or "" for name in wanted}
    if not all(values.values()):
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are required.")
    if not values[STANDARD_ID_HEADER].isascii():
        raise SignatureError("webhook-id must be ASCII.")
    if not _TIMESTAMP.match(values[STANDARD_TIMESTAMP_HEADER]):
        raise SignatureError("webhook-timestamp must be Unix seconds.")
    failure = "webhook-signature does not match the body."
    for secret in secrets:
        try:
            Webhook(secret_key(secret)).verify(body, values, json_parse=False)
            return
        except Exception as exc:  # the package raises several kinds on malformed input
            failure = f"webhook-signature: {exc}" if str(exc) else failure
    raise SignatureError(failure)


def signature_verify(
    *,
    secrets: list[str],
    headers,
    body: bytes,
    tolerance: int,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `headers` sign `body` with one of `secrets`, in either
    scheme (Standard Webhooks when its `webhook-signature` header is present)."""
    if not secrets:
        raise SignatureError("No webhook secret is configured.")
    for name in SIGNATURE_HEADERS:
        value = headers.get(name)
        if value is not None and (len(value) > _HEADER_LIMIT or not value.isascii()):
            raise SignatureError(f"{name} is malformed.")
    if headers.get(STANDARD_SIGNATURE_HEADER) is not None:
        _standard_verify(secrets, headers, body)
    else:
        _x_bank_verify(secrets, headers, body, tolerance, time.time() if now is None else now)
