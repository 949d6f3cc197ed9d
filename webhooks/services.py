"""Booking bank payments: one SQL call per delivery, one transaction, exactly once."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import psycopg
from django.conf import settings
from django.db import connection
from psycopg.types.json import Jsonb

from accounting.services import balance_changes_dispatch_on_commit
from webhooks.models import Delivery, DeliveryResult


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
    the balance-change log dispatch is queued. Raises django.db errors only
    when the database is unavailable.
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
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_RECEIVE_SQL, params, prepare=True)
        receipt = PaymentReceipt(*cursor.fetchone())
    if receipt.result in (DeliveryResult.BOOKED, DeliveryResult.UNIDENTIFIED):
        balance_changes_dispatch_on_commit()
    return receipt


def delivery_reject(
    *,
    http_status: int,
    errors: dict,
    raw_body: str,
    headers: dict[str, str],
    remote_addr: str | None,
    operation_id: UUID | None = None,
) -> Delivery:
    """Record a delivery that was refused before booking (bad input, signature, size)."""
    return Delivery.objects.create(
        result=DeliveryResult.REJECTED,
        http_status=http_status,
        operation_id=operation_id,
        raw_body=raw_body,
        headers=headers,
        remote_addr=remote_addr,
        errors=errors,
    )
