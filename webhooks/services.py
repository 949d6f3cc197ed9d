"""Booking bank payments: one SQL call per delivery, one transaction, exactly once.

A payment can also be booked from the bank's statement (`statement_payment_book`), when no
webhook announced it; both bookings take the advisory lock of the payment's document key,
so a payment known from both sources is booked once.
"""

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounting.services import balance_changes_dispatch_on_commit
from common.db import prepared_rows
from webhooks.exceptions import PaymentUnbookable
from webhooks.models import Delivery, DeliveryResult, Payment
from webhooks.signals import payment_booked

logger = logging.getLogger(__name__)

# What is kept of a body rejected before its source was authenticated.
UNAUTHENTICATED_BODY_BYTES = 2048


@dataclass(frozen=True)
class IncomingPayment:
    operation_id: UUID
    amount: Decimal
    payer_inn: str
    document_number: str
    document_date: datetime

    def payload_hash(self) -> str:
        """SHA-256 of the canonical payload: equal for the same payment however it was
        written (145000 or "145000.00", any time-zone offset of the same instant)."""
        canonical = "\x1f".join(
            [
                str(self.operation_id),
                f"{self.amount:.2f}",
                self.payer_inn,
                self.document_number,
                self.document_date.astimezone(UTC).isoformat(),
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


_RECEIVE_SQL = "SELECT * FROM webhooks_receive_payment(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


@dataclass(frozen=True)
class PaymentReceipt:
    result: str
    payment_id: int
    entry_id: int
    delivery_id: int


def bank_payment_receive(
    *,
    payment: IncomingPayment,
    raw_body: str,
    headers: dict[str, str],
    remote_addr: str | None,
) -> PaymentReceipt:
    """Record the delivery and, if the operation is new, book the payment.

    One call of `webhooks_receive_payment` in PostgreSQL, so one transaction and one round
    trip: it serializes deliveries of the same operation_id on an advisory lock, books a new
    payment (Dr 51 / Cr the organization's account, or 76.UNID when no organization has the
    INN) with its journal entry, balance deltas and balance-change log row, and records the
    delivery as booked, unidentified, duplicate or conflict. A new operation_id whose
    document key (payer INN, document number, document day, amount) belongs to a payment
    booked from the bank statement books nothing: the delivery is a duplicate of that
    payment, which takes the operation_id. After the commit of a booking, the balance-change
    log dispatch is queued and `payment_booked` is sent.

    Raises PaymentUnbookable when the database refuses this payment's data (an amount its
    columns cannot hold, a failed CHECK): nothing is booked, and the caller records the
    delivery as rejected. Other django.db errors mean the database is unavailable.
    """
    params = [
        payment.operation_id,
        payment.amount,
        settings.DEFAULT_CURRENCY,
        payment.payer_inn,
        payment.document_number,
        payment.document_date,
        payment.payload_hash(),
        raw_body,
        Jsonb(headers),
        remote_addr,
        settings.TIME_ZONE,
    ]
    # The hot path: a prepared statement on the raw psycopg connection (common/db.py).
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint, so a refusal leaves the caller usable
                receipt = _receive(params)
        else:
            receipt = _receive(params)  # autocommit: the call is its own transaction
    except (DataError, IntegrityError) as exc:
        raise PaymentUnbookable(str(exc).split("\n")[0]) from exc
    if receipt.result in (DeliveryResult.BOOKED, DeliveryResult.UNIDENTIFIED):
        balance_changes_dispatch_on_commit()
        key = DocumentKey.of(
            payer_inn=payment.payer_inn,
            document_number=payment.document_number,
            document_date=payment.document_date,
            amount=payment.amount,
        )
        transaction.on_commit(lambda: _announce_booking(receipt.payment_id, key))
    return receipt


def _receive(params: list) -> "PaymentReceipt":
    [row] = prepared_rows(_RECEIVE_SQL, params)
    return PaymentReceipt(*row)


def _announce_booking(payment_id: int, key: "DocumentKey") -> None:
    # The booking has committed and the bank must get its 200: a receiver's failure is
    # logged, never raised.
    for receiver, error in payment_booked.send_robust(
        sender=Payment, payment_id=payment_id, key=key
    ):
        if isinstance(error, Exception):
            logger.error("payment_booked receiver %r failed: %r", receiver, error)


@dataclass(frozen=True)
class DocumentKey:
    """What identifies a payment across the webhook and the bank statement, which has no
    operation_id: payer INN, document number, document day in the service's time zone,
    amount."""

    payer_inn: str
    document_number: str
    document_day: date
    amount: Decimal

    @classmethod
    def of(cls, *, payer_inn: str, document_number: str, document_date: datetime, amount):
        day = document_date.astimezone(timezone.get_default_timezone()).date()
        return cls(payer_inn, document_number, day, Decimal(amount))


def payment_document_lock(*, key: DocumentKey) -> None:
    """Take the advisory lock of `key` until the current transaction ends (re-entrant).

    The webhook booking of a new operation_id and `statement_payment_book` take it; a caller
    that must read payments of the key before booking takes it first, in its transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT webhooks_document_lock(%s, %s, %s, %s)",
            [key.payer_inn, key.document_number, key.document_day, key.amount],
        )


@dataclass(frozen=True)
class StatementBooking:
    # booked / unidentified (a new payment), or existing (booked before; nothing booked)
    result: str
    payment_id: int
    entry_id: int

    EXISTING = "existing"

    @property
    def booked(self) -> bool:
        return self.result != self.EXISTING


def statement_payment_book(
    *, key: DocumentKey, claimed: Collection[int], reason: str, created_by=None
) -> StatementBooking:
    """Book a payment the bank's statement shows, unless a payment of `key` other than those
    in `claimed` exists, which is returned instead (result "existing", nothing booked).

    Runs in the caller's transaction, in one call of `webhooks_book_statement_payment`: it
    takes the document-key lock (shared with the webhook booking), then the INN's shared
    lock, and books Dr bank clearing / Cr the organization's account or unidentified
    receipts, with `reason` and `created_by` on the entry. The payment has source
    "statement" and no operation_id until its webhook arrives. The balance-change log
    dispatch is queued for after the commit.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM webhooks_book_statement_payment(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                key.amount,
                settings.DEFAULT_CURRENCY,
                key.payer_inn,
                key.document_number,
                key.document_day,
                settings.TIME_ZONE,
                list(claimed),
                reason,
                created_by.pk if created_by else None,
            ],
        )
        booking = StatementBooking(*cursor.fetchone())
    if booking.booked:
        balance_changes_dispatch_on_commit()
    return booking


def delivery_reject(
    *,
    http_status: int,
    errors: dict,
    body: bytes,
    headers: dict[str, str],
    remote_addr: str | None,
    authenticated: bool,
    operation_id: UUID | None = None,
) -> Delivery:
    """Record a delivery that was refused before booking (bad input, signature, size).

    A body whose source was authenticated (a valid signature) is kept whole; otherwise only
    its SHA-256, its length and its first 2 KiB, so that anonymous senders cannot fill the
    append-only table. Rejected deliveries are removed after
    REJECTED_DELIVERY_RETENTION_DAYS (rejected_deliveries_purge).
    """
    kept = body if authenticated else body[:UNAUTHENTICATED_BODY_BYTES]
    return Delivery.objects.create(
        result=DeliveryResult.REJECTED,
        http_status=http_status,
        operation_id=operation_id,
        raw_body=text_for_storage(kept),
        body_sha256=hashlib.sha256(body).hexdigest(),
        body_length=len(body),
        body_truncated=len(kept) < len(body),
        headers=headers,
        remote_addr=remote_addr,
        errors=errors,
    )


def text_for_storage(raw: bytes | str) -> str:
    """Bytes as text PostgreSQL can hold: invalid UTF-8 and NUL characters replaced."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.replace("\x00", "\ufffd")


def rejected_deliveries_purge(*, older_than_days: int | None = None) -> int:
    """Delete rejected deliveries older than the retention (REJECTED_DELIVERY_RETENTION_DAYS);
    return how many. Booked, duplicate and conflict deliveries are never deleted.

    One call of webhooks_rejected_deliveries_purge (webhooks/sql/delivery_retention.sql),
    which runs as the tables' owner, refuses a retention under one day, and records the run
    as a DeliveryPurge row in the same transaction.
    """
    days = settings.REJECTED_DELIVERY_RETENTION_DAYS if older_than_days is None else older_than_days
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhooks_rejected_deliveries_purge(%s)", [days])
        (deleted,) = cursor.fetchone()
    return deleted
