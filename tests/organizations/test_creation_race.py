"""A payment racing the creation of its organization, in both orders, forced.

Each side runs in its own thread and connection. The first holds its transaction open
after taking the INN's advisory lock until PostgreSQL shows the second waiting for that
lock; only then does the first commit. So each test is known to have exercised its order:
a payment in flight when the organization is created (booked to unidentified receipts,
then moved by the creation), or an organization being created when the payment arrives
(booked straight onto its account once the creation commits).
"""

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounting.models import EntryKind, JournalEntry
from accounting.selectors import suspense_receipts_unallocated
from organizations.models import Organization
from organizations.selectors import organization_balance_get
from organizations.services import organization_create
from tests.workers import wait_for
from webhooks.models import DeliveryResult, Payment
from webhooks.services import IncomingPayment, bank_payment_receive

pytestmark = pytest.mark.django_db(transaction=True)

INN = "7707083893"
TIMEOUT = 30


def _payment() -> IncomingPayment:
    return IncomingPayment(
        operation_id=uuid.uuid4(),
        amount=Decimal("10.01"),
        payer_inn=INN,
        document_number="PAY-1",
        document_date=datetime(2024, 4, 27, 21, tzinfo=UTC),
    )


def _receive(payment: IncomingPayment):
    return bank_payment_receive(payment=payment, raw_body="{}", headers={}, remote_addr="127.0.0.1")


def _waiting_for_advisory_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted",
            [pid],
        )
        return cursor.fetchone() is not None


class Side(threading.Thread):
    """Run `work` in its own connection; with `hold`, inside a transaction kept open after
    `work` until `release` is set."""

    def __init__(self, work, *, hold: bool):
        super().__init__(daemon=True)
        self.work, self.hold = work, hold
        self.pid = None
        self.done_work = threading.Event()
        self.release = threading.Event()
        self.result = self.error = None

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            if self.hold:
                with transaction.atomic():
                    self.result = self.work()
                    self.done_work.set()
                    assert self.release.wait(TIMEOUT), "never released"
            else:
                self.result = self.work()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.done_work.set()
            connection.close()


def _race(first: Side, second: Side) -> None:
    """`first` takes the lock and holds it; `second` starts and must be seen waiting."""
    first.start()
    assert first.done_work.wait(TIMEOUT) and first.error is None, first.error
    second.start()
    wait_for(lambda: second.pid is not None, timeout=TIMEOUT, what="second connection")
    wait_for(
        lambda: _waiting_for_advisory_lock(second.pid),
        timeout=TIMEOUT,
        what="the second side to wait for the INN lock",
    )
    assert second.is_alive()  # blocked, not finished
    first.release.set()
    for side in (first, second):
        side.join(TIMEOUT)
        assert not side.is_alive() and side.error is None, side.error


def test_payment_in_flight_when_the_organization_is_created_is_moved_onto_it():
    payment = _payment()
    booking = Side(lambda: _receive(payment), hold=True)
    creation = Side(lambda: organization_create(inn=INN, name="Mid-Flight"), hold=False)

    _race(booking, creation)

    assert booking.result.result == DeliveryResult.UNIDENTIFIED
    organization = Organization.objects.get(inn=INN)
    booked = Payment.objects.get(operation_id=payment.operation_id)
    [moved] = JournalEntry.objects.filter(kind=EntryKind.RECLASSIFICATION)
    assert moved.reclassifies_id == booked.entry_id
    assert moved.lines.get(side="C").account_id == organization.account_id
    assert not suspense_receipts_unallocated(party=INN).exists()
    assert organization_balance_get(inn=INN) == Decimal("10.01")


def test_payment_arriving_while_the_organization_is_created_is_booked_onto_it():
    payment = _payment()
    creation = Side(lambda: organization_create(inn=INN, name="Mid-Flight"), hold=True)
    booking = Side(lambda: _receive(payment), hold=False)

    _race(creation, booking)

    assert booking.result.result == DeliveryResult.BOOKED
    organization = Organization.objects.get(inn=INN)
    booked = Payment.objects.get(operation_id=payment.operation_id)
    entry = JournalEntry.objects.get(pk=booked.entry_id)
    assert entry.lines.get(side="C").account_id == organization.account_id
    assert not JournalEntry.objects.filter(kind=EntryKind.RECLASSIFICATION).exists()
    assert organization_balance_get(inn=INN) == Decimal("10.01")
