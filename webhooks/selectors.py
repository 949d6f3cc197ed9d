"""Reads of payments."""

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from common.dates import day_bounds
from common.db import BoundedCount, bounded_count
from webhooks.models import Delivery, DeliveryResult, Payment, PaymentSource
from webhooks.services import DocumentKey


def payments_of_document_keys(*, keys: Iterable[DocumentKey]) -> dict[DocumentKey, list[Payment]]:
    """{key: the payments with that document key, oldest first} for every key given (keys
    without a payment map to []). One query."""
    keys = set(keys)
    found: dict[DocumentKey, list[Payment]] = {key: [] for key in keys}
    if not keys:
        return found
    days = sorted(key.document_day for key in keys)
    start, end = day_bounds(days[0], days[-1])
    candidates = Payment.objects.filter(
        payer_inn__in={key.payer_inn for key in keys},
        document_number__in={key.document_number for key in keys},
        document_date__gte=start,
        document_date__lt=end,
    ).order_by("id")
    for payment in candidates:
        key = payment_document_key(payment)
        if key in found:
            found[key].append(payment)
    return found


def payment_document_key(payment: Payment) -> DocumentKey:
    return DocumentKey.of(
        payer_inn=payment.payer_inn,
        document_number=payment.document_number,
        document_date=payment.document_date,
        amount=payment.amount.amount,
    )


def payments_from_webhooks_received(*, start, end) -> QuerySet:
    """Payments booked by a webhook (not from the statement) that arrived in [start, end)."""
    return Payment.objects.filter(
        source=PaymentSource.WEBHOOK, received_at__gte=start, received_at__lt=end
    )


_POSTED_TOTALS_SQL = """
SELECT coalesce(sum(p.count), 0), coalesce(sum(p.total), 0)
  FROM accounting_journalentry e
 CROSS JOIN LATERAL (SELECT count(*) AS count, sum(amount) AS total
                       FROM webhooks_payment WHERE entry_id = e.id) p
 WHERE e.posted_at >= %(start)s AND e.posted_at < %(end)s
"""


def payments_posted_totals(*, start, end) -> tuple[int, Decimal]:
    """(count, sum) of the payments booked in [start, end), from any source: the period's
    entries by their posting-time index, each one's payment by its entry. (As a join, once
    the period held a few percent of the payments the planner hashed the whole table: 1 s
    for a busy day at 5M payments.)"""
    with connection.cursor() as cursor:
        cursor.execute(_POSTED_TOTALS_SQL, {"start": start, "end": end})
        count, total = cursor.fetchone()
    return int(count), Decimal(total).quantize(Decimal("0.01"))


def deliveries_to_follow_up_counts(*, limit: int) -> dict[str, BoundedCount]:
    """How many conflicting repeats and rejected deliveries are kept, each counted up to
    `limit` from its partial index."""
    return {
        result: bounded_count(Delivery.objects.filter(result=result), limit=limit)
        for result in (DeliveryResult.CONFLICT, DeliveryResult.REJECTED)
    }
