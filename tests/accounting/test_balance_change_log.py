from decimal import Decimal

import pytest

from accounting.models import BalanceChange
from accounting.services import account_balances_fold, balance_changes_dispatch
from tests.factories import OrganizationFactory, WebhookPayloadFactory
from tests.webhooks.helpers import post_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_payments(client):
    OrganizationFactory(inn="1234567890")
    for amount in ("100.00", "0.50", "20.00"):
        post_webhook(client, WebhookPayloadFactory(amount=Decimal(amount)))
        if amount == "0.50":
            account_balances_fold()  # folding changes nothing in the log


def test_balance_after_is_the_running_balance_in_log_order(three_payments):
    assert balance_changes_dispatch(limit=2, max_batches=1) == 2
    assert balance_changes_dispatch() == 1  # the running balance carries across batches

    changes = BalanceChange.objects.order_by("id")
    assert [c.balance_after for c in changes] == [
        Decimal("100.00"),
        Decimal("100.50"),
        Decimal("120.50"),
    ]


def test_a_change_is_pending_without_balance_after_until_it_is_logged(three_payments):
    assert set(BalanceChange.objects.values_list("balance_after", flat=True)) == {None}


def test_posting_reads_no_pending_deltas(client):
    """A booking's statements never touch the deltas table except to insert: its cost does
    not grow with the backlog."""
    from django.db import connection

    # This transaction's own scans (the test runs in one transaction, the booking included).
    scans = (
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0), n_tup_ins"
        " FROM pg_stat_xact_user_tables WHERE relname = 'accounting_balancedelta'"
    )
    OrganizationFactory(inn="1234567890")
    with connection.cursor() as cursor:
        cursor.execute(scans)
        scanned_before, inserted_before = cursor.fetchone()
        post_webhook(client, WebhookPayloadFactory())
        cursor.execute(scans)
        scanned_after, inserted_after = cursor.fetchone()

    assert inserted_after - inserted_before == 2  # the booking did post its deltas
    assert scanned_after == scanned_before


def test_dispatch_logs_each_change_once_with_its_details(three_payments, caplog):
    first = BalanceChange.objects.order_by("id").first()

    assert balance_changes_dispatch(limit=1, max_batches=1) == 1  # the oldest first
    assert balance_changes_dispatch() == 2  # the rest
    assert balance_changes_dispatch() == 0  # each change is logged once

    lines = [r.getMessage() for r in caplog.records if r.name == "accounting.balance_changes"]
    assert len(lines) == 3
    assert lines[0] == (
        f"balance change id={first.pk} inn=1234567890 account=62.1234567890 amount=+100.00 "
        f"balance_after=100.00 operation_id={first.entry.reference} entry={first.entry_id} "
        "kind=payment"
    )
    assert not BalanceChange.objects.filter(dispatched_at__isnull=True).exists()


def test_sweep_respects_its_limit(three_payments):
    assert balance_changes_dispatch(limit=2, max_batches=1) == 2
    assert BalanceChange.objects.filter(dispatched_at__isnull=True).count() == 1


def test_publish_throttle_queues_one_immediate_and_one_trailing_dispatch_per_interval():
    from accounting.services import _PublishThrottle

    throttle = _PublishThrottle()

    assert throttle.plan(10.0, 0.25) == 0.0  # immediate
    assert throttle.plan(10.1, 0.25) == pytest.approx(0.15)  # trailing, at 10.25
    assert throttle.plan(10.2, 0.25) is None  # the trailing dispatch starts after this commit
    assert throttle.plan(10.3, 0.25) == 0.0  # a new interval: immediate again
    assert throttle.plan(11.0, 0.25) == 0.0
