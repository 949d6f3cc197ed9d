"""The per-INN advisory lock that webhook bookings share (webhooks/sql/receive_payment.sql)."""

from common.locks import LockNamespace, advisory_xact_lock


def inn_lock_exclusive(inn: str) -> None:
    """Wait until no booking for `inn` is in flight, and keep new ones out until commit.

    Webhook bookings take the shared lock for their INN, so an organization created
    concurrently with a payment either is seen by the booking or sees the booking.
    """
    advisory_xact_lock(LockNamespace.INN, inn)
