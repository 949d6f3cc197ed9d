"""Booking bank payments: one SQL call per delivery, one transaction, exactly once."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import psycopg
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from psycopg.types.json import Jsonb

from accounting.services import balance_changes_dispatch_on_commit
from webhooks.exceptions import PaymentUnbookable
from webhooks.models import Delivery, DeliveryResult

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


_RECEIVE_SQL = "SELECT * FROM webhooks_receive_payment(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


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
    delivery as booked, unidentified, duplicate or conflict. After the commit of a booking,
    the balance-change log dispatch is queued.

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
    ]
    # The hot path: a server-side-bound, prepared statement on the raw psycopg connection
    # (parsed and planned once per connection); database errors still surface as Django's.
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
    return receipt


def _receive(params: list) -> "PaymentReceipt":
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_RECEIVE_SQL, params, prepare=True)
        return PaymentReceipt(*cursor.fetchone())


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
