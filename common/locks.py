"""Namespaces of PostgreSQL advisory locks: the first half of each two-int lock key.

One registry for every app, so two features can never take each other's locks by accident.
The SQL functions receive these numbers when they are loaded (see common/sql.py).
"""

from enum import IntEnum


class LockNamespace(IntEnum):
    # Per payer INN: bookings take it shared, organization creation exclusive.
    INN = 1
    # Per webhook operation_id: deliveries of one operation are booked one at a time.
    OPERATION = 2
    # Per journal entry: its reversal and its reclassification are decided one at a time.
    ENTRY = 3
    # The balance-change log: one dispatch at a time keeps each running balance in order.
    BALANCE_LOG = 4
    # Per payment document (payer INN, document number, document day, amount): the webhook
    # booking of a new operation and the booking of a bank-statement line take it, so a
    # payment known from both sources is booked once.
    DOCUMENT = 5
    # Per bank-statement file (its SHA-256): concurrent imports of one file store it once.
    STATEMENT_FILE = 6
    # Per hour of posting time (Unix hours): each entry takes its hour's lock shared when it
    # commits, and closing a journal day takes the day's hours exclusively, so no entry of a
    # day can commit once its totals are computed.
    JOURNAL_HOUR = 7


def advisory_xact_lock(namespace: LockNamespace, key: str | int) -> None:
    """Hold the advisory lock (namespace, hash of key) until the transaction ends."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [int(namespace), str(key)])
