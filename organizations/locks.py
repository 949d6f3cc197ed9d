"""Advisory lock keys shared with the webhook's SQL function (see webhooks migrations)."""

from django.db import connection

# First half of the two-int advisory-lock key: the namespace of per-INN locks.
INN_LOCK_NAMESPACE = 1


def inn_lock_exclusive(inn: str) -> None:
    """Wait until no booking for `inn` is in flight, and keep new ones out until commit.

    Webhook bookings take the shared lock for their INN, so an organization created
    concurrently with a payment either is seen by the booking or sees the booking.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [INN_LOCK_NAMESPACE, inn])
