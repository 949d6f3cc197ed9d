"""The bank imitation: deliver a payment to this service's own webhook, as the bank would.

Used by the page at /swagger/webhook/bank/imitation/ and its API; the delivery runs in a
Celery task, over real HTTP, signed with the first of WEBHOOK_SECRETS in the scheme of
BANK_IMITATION_SIGNATURE_SCHEME (as the bank would sign), retried with exponential backoff on
connection errors and 5xx answers (the bank's contract: anything but 2xx is retried).

Since it signs with the real secret, it can credit balances: it is off unless
BANK_IMITATION_ENABLED is set, and only users with the `webhooks.run_bankimitation`
permission (not the Accountant group) may use it.
"""

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from organizations.models import Organization
from webhooks.models import BankImitation
from webhooks.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_compute,
    standard_headers_compute,
)

MAX_REPEATS = 20


def random_payment_payload() -> dict:
    """A plausible payment: a known organization's INN when there is one."""
    inns = list(Organization.objects.values_list("inn", flat=True)[:200])
    inn = random.choice(inns) if inns else f"{random.randint(10**9, 10**10 - 1)}"
    amount = Decimal(random.randint(100_00, 500_000_00)) / 100
    return {
        "operation_id": str(uuid.uuid4()),
        "amount": str(amount),
        "payer_inn": inn,
        "document_number": f"PAY-{random.randint(1, 99999)}",
        "document_date": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def bank_imitation_start(*, payload: dict, repeats: int = 1, created_by=None) -> BankImitation:
    """Record the imitation and queue its delivery once the row is committed."""
    from webhooks.tasks import bank_imitation_deliver_task

    if not 1 <= repeats <= MAX_REPEATS:
        raise ValueError(f"repeats must be between 1 and {MAX_REPEATS}")
    with transaction.atomic():
        imitation = BankImitation.objects.create(
            payload=payload,
            repeats=repeats,
            signed=bool(settings.WEBHOOK_SECRETS),
            created_by=created_by if created_by and created_by.is_authenticated else None,
        )
        transaction.on_commit(lambda: bank_imitation_deliver_task.delay(imitation.pk))
    return imitation


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    """The signature headers the bank would send with `body`, now."""
    timestamp = int(time.time())
    if settings.BANK_IMITATION_SIGNATURE_SCHEME == "standard":
        return standard_headers_compute(
            secret=secret, msg_id=f"msg_{uuid.uuid4().hex}", timestamp=timestamp, body=body
        )
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_compute(secret=secret, timestamp=str(timestamp), body=body),
    }


def _post(url: str, body: bytes) -> tuple[int | None, str, str]:
    """One HTTP POST: (status or None, response body, error)."""
    headers = {"Content-Type": "application/json", "User-Agent": "BankImitation/1.0"}
    if settings.WEBHOOK_SECRETS:
        headers.update(signed_headers(settings.WEBHOOK_SECRETS[0], body))
    if not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured("BANK_IMITATION_WEBHOOK_URL must be an http(s) URL.")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    timeout = settings.BANK_IMITATION_TIMEOUT
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode(errors="replace"), ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), ""
    except OSError as error:  # refused, reset, timed out
        return None, "", str(error)


def bank_imitation_deliver(*, imitation: BankImitation, sleep=time.sleep) -> BankImitation:
    """Send the imitation's payload `repeats` times, retrying each delivery with backoff
    until it is answered 2xx or 4xx (a 4xx is final: the bank would not retry bad input).

    Idempotent in effect: a repeated run sends the same operation_id again, which the
    webhook books at most once.
    """
    if imitation.finished_at:
        return imitation
    url = settings.BANK_IMITATION_WEBHOOK_URL
    body = json.dumps(imitation.payload).encode()
    attempts: list[dict] = []
    for delivery in range(1, imitation.repeats + 1):
        delay = settings.BANK_IMITATION_BACKOFF_SECONDS
        for attempt in range(1, settings.BANK_IMITATION_MAX_ATTEMPTS + 1):
            started = time.monotonic()
            status, text, error = _post(url, body)
            attempts.append(
                {
                    "delivery": delivery,
                    "attempt": attempt,
                    "status": status,
                    "body": text[:2000],
                    "error": error,
                    "ms": round((time.monotonic() - started) * 1000),
                }
            )
            if status is not None and status < 500:
                break
            if attempt < settings.BANK_IMITATION_MAX_ATTEMPTS:
                sleep(delay)
                delay *= 2
    imitation.attempts = attempts
    imitation.finished_at = timezone.now()
    imitation.save(update_fields=["attempts", "finished_at"])
    return imitation
