"""The accountant's booking action and the bank's late webhook for the same payment, raced.

Each round starts both together behind a barrier: the admin action "Book selected
statement-only lines" (the Django test client in its own thread, so its own database
connection and transaction) and the webhook delivery over HTTP to gunicorn. Whichever
wins, the payment is booked exactly once, it ends with the webhook's operation_id, and the
statement line points at it.
"""

import random
import threading
import time as time_module
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from decimal import Decimal

import pytest
import simplejson
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounting.models import EntryKind, JournalEntry
from bankstatements.models import LineStatus, StatementLine
from organizations.selectors import organization_balance_get
from organizations.services import organization_create
from tests.bankstatements.files import Doc, statement_bytes
from tests.bankstatements.helpers import import_statement
from tests.http import http_request
from tests.webhooks.helpers import WEBHOOK_URL, dumps
from webhooks.models import Delivery, DeliveryResult, Payment, PaymentSource

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 50
INN = "7707083893"
TODAY = timezone.localdate()
LINES = "/admin/bankstatements/statementline/"


def _accountant() -> User:
    user = User.objects.create_user("racer", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_statementline", "book_statementline"])
    )
    return user


def _amount(n: int) -> Decimal:
    return Decimal(f"{100 + n}.{n:02d}")


def test_booking_action_and_webhook_raced_book_each_payment_once(app_server, record_property):
    organization_create(inn=INN, name="Romashka LLC")
    docs = [Doc(f"R-{n}", TODAY, _amount(n), payer_inn=INN) for n in range(ROUNDS)]
    statement = import_statement(statement_bytes(docs, start=TODAY)).statement
    lines = {line.number: line.pk for line in statement.lines.all()}
    assert set(statement.lines.values_list("status", flat=True)) == {LineStatus.STATEMENT_ONLY}
    user = _accountant()
    admin = Client()
    admin.force_login(user)
    noon = timezone.make_aware(datetime.combine(TODAY, time(12))).isoformat()
    outcomes = Counter()

    def book(line_id: int, barrier: threading.Barrier) -> int:
        try:
            barrier.wait(timeout=30)
            response = admin.post(LINES, {"action": "book_selected", "_selected_action": [line_id]})
            return response.status_code
        finally:
            connection.close()

    def deliver(body: str, barrier: threading.Barrier, delay: float):
        barrier.wait(timeout=30)
        time_module.sleep(delay)
        status, _, content = http_request(app_server + WEBHOOK_URL, body)
        return status, simplejson.loads(content)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(ROUNDS):
            number = f"R-{n}"
            operation_id = str(uuid.uuid4())
            body = dumps(
                {"operation_id": operation_id, "amount": _amount(n), "payer_inn": INN,
                 "document_number": number, "document_date": noon}
            )  # fmt: skip
            barrier = threading.Barrier(2)
            action = pool.submit(book, lines[number], barrier)
            # The admin request does more work before it books than the webhook does, so the
            # webhook starts up to 120 ms late: both orders, and overlaps, happen.
            webhook = pool.submit(deliver, body, barrier, random.uniform(0, 0.12))
            assert action.result(timeout=60) == 302
            status, answer = webhook.result(timeout=60)

            assert status == 200, answer
            [payment] = Payment.objects.filter(document_number=number)
            assert str(payment.operation_id) == operation_id
            assert answer["payment_id"] == payment.pk
            assert JournalEntry.objects.filter(payment=payment, kind=EntryKind.PAYMENT).count() == 1
            line = StatementLine.objects.get(pk=lines[number])
            assert line.payment_id == payment.pk
            if answer["result"] == DeliveryResult.DUPLICATE:  # the statement booking won
                assert (payment.source, line.status, line.booked) == (
                    PaymentSource.STATEMENT, LineStatus.STATEMENT_ONLY, True
                )  # fmt: skip
                outcomes["statement first"] += 1
            else:  # the webhook won; the action found its payment and booked nothing
                assert answer["result"] == DeliveryResult.BOOKED
                assert (payment.source, line.status, line.booked) == (
                    PaymentSource.WEBHOOK, LineStatus.MATCHED, False
                )  # fmt: skip
                outcomes["webhook first"] += 1

    record_property("outcomes", dict(outcomes))
    print(f"race outcomes over {ROUNDS} rounds: {dict(outcomes)}")  # noqa: T201
    assert sum(outcomes.values()) == ROUNDS
    assert Payment.objects.count() == ROUNDS
    assert Delivery.objects.count() == ROUNDS
    assert organization_balance_get(inn=INN) == sum((_amount(n) for n in range(ROUNDS)), Decimal(0))
