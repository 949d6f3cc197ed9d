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
            account_balances_fold()  # balance_after sees folded and pending amounts alike


def test_balance_after_is_the_running_balance(three_payments):
    changes = BalanceChange.objects.order_by("id")

    assert [c.balance_after for c in changes] == [
        Decimal("100.00"),
        Decimal("100.50"),
        Decimal("120.50"),
    ]


def test_dispatch_logs_each_change_once_with_its_details(three_payments, caplog):
    first = BalanceChange.objects.order_by("id").first()

    assert balance_changes_dispatch(limit=1) == 1  # the oldest first
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
    assert balance_changes_dispatch(limit=2) == 2
    assert BalanceChange.objects.filter(dispatched_at__isnull=True).count() == 1


def test_publish_throttle_queues_one_immediate_and_one_trailing_dispatch_per_interval():
    from accounting.services import _PublishThrottle

    throttle = _PublishThrottle()

    assert throttle.plan(10.0, 0.25) == 0.0  # immediate
    assert throttle.plan(10.1, 0.25) == pytest.approx(0.15)  # trailing, at 10.25
    assert throttle.plan(10.2, 0.25) is None  # the trailing dispatch starts after this commit
    assert throttle.plan(10.3, 0.25) == 0.0  # a new interval: immediate again
    assert throttle.plan(11.0, 0.25) == 0.0
