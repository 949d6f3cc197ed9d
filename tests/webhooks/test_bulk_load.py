"""The bulk loader fills the books at COPY speed and keeps every rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Min, Sum

from accounting.models import (
    AccountDayTotal,
    BalanceChange,
    BalanceDelta,
    ClosedDay,
    EntryKind,
    JournalEntry,
    JournalLine,
)
from organizations.models import Organization
from organizations.selectors import organization_balance_get
from reconciliation.models import ReportStatus
from reconciliation.services import reconciliation_report_create
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook
from webhooks.bulk_load import BulkLoadRefused, ledger_bulk_load
from webhooks.models import Delivery, Payment

pytestmark = pytest.mark.django_db


def test_loaded_books_reconcile_with_the_hot_share_and_reversals():
    report = ledger_bulk_load(
        payments=3000, organizations=20, hot_share=0.5, reversal_share=0.05, batch_size=1000
    )

    assert report.payments == Payment.objects.count() == Delivery.objects.count() == 3000
    hot = Organization.objects.order_by("id").first()
    to_hot = Payment.objects.filter(payer_inn=hot.inn).count()
    assert 1300 < to_hot < 1700
    assert report.reversals == JournalEntry.objects.filter(kind=EntryKind.REVERSAL).count() > 0
    assert report.unidentified > 0
    assert BalanceDelta.objects.count() == 0  # folded
    assert not BalanceChange.objects.filter(dispatched_at__isnull=True).exists()
    span = Payment.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    assert (span["last"] - span["first"]).days > 300  # spread over the year
    expected = sum(
        (p.amount.amount for p in Payment.objects.filter(payer_inn=hot.inn)), Decimal(0)
    ) - sum(
        (e.lines.get(side="D", account=hot.account).amount.amount
         for e in JournalEntry.objects.filter(kind=EntryKind.REVERSAL, party=hot.inn)),
        Decimal(0),
    )  # fmt: skip
    assert organization_balance_get(inn=hot.inn) == expected
    report = reconciliation_report_create(
        period_start=span["first"], period_end=span["last"] + timedelta(days=1)
    )
    assert report.status == ReportStatus.OK, report.discrepancies


def test_loader_refuses_books_with_payments_it_did_not_load(client):
    post_webhook(client, BRIEF_PAYLOAD)

    with pytest.raises(BulkLoadRefused):
        ledger_bulk_load(payments=10, organizations=2, hot_share=0.5)
    with pytest.raises(CommandError, match="not bulk-loaded"):
        call_command("ledger_bulk_load", "--payments", "10")
    assert Payment.objects.count() == 1


def test_loader_closes_the_days_that_are_over_and_a_second_load_posts_after_them():
    first = ledger_bulk_load(payments=800, organizations=5, hot_share=0.5, batch_size=400)

    closed = ClosedDay.objects.order_by("day")
    assert first.closed_days == closed.count() > 300
    closed_until = closed.last().ends_at
    # Every line of a closed day is in that day's totals, and no later line is.
    assert AccountDayTotal.objects.aggregate(n=Sum("lines"))["n"] == JournalLine.objects.filter(
        entry__posted_at__lt=closed_until
    ).count()

    loaded = Payment.objects.aggregate(last=Max("id"))["last"]
    # The same seed: a second load still draws operation ids of its own.
    second = ledger_bulk_load(payments=200, organizations=5, hot_share=0.5, close_days=False)

    assert second.closed_days == 0
    later = Payment.objects.filter(id__gt=loaded)
    assert later.count() == 200
    assert later.aggregate(first=Min("received_at"))["first"] >= closed_until
    report = reconciliation_report_create(
        period_start=closed.first().starts_at, period_end=closed_until + timedelta(days=1)
    )
    assert report.status == ReportStatus.OK, report.discrepancies
