"""HMAC-SHA256 signatures of webhook bodies, checked when WEBHOOK_SECRET is set.

The bank sends `X-Bank-Timestamp: <unix seconds>` and
`X-Bank-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`.
"""

import hashlib
import hmac
import time

from webhooks.exceptions import SignatureError

TIMESTAMP_HEADER = "X-Bank-Timestamp"
SIGNATURE_HEADER = "X-Bank-Signature"


def signature_compute(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def signature_verify(
    *,
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    tolerance: int,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `signature` signs `body` at a fresh `timestamp`."""
    if not timestamp or not signature:
        raise SignatureError(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required.")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix seconds.") from exc
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        raise SignatureError(f"{TIMESTAMP_HEADER} is outside the {tolerance}s tolerance.")
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body.")
