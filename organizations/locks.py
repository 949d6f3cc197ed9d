"""The per-INN advisory lock that webhook bookings share (webhooks/sql/receive_payment.sql)."""

from django.db import connection

from common.locks import LockNamespace


def inn_lock_exclusive(inn: str) -> None:
    """Wait until no booking for `inn` is in flight, and keep new ones out until commit.

    Webhook bookings take the shared lock for their INN, so an organization created
    concurrently with a payment either is seen by the booking or sees the booking.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [int(LockNamespace.INN), inn]
        )
