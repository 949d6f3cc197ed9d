"""The admin's home page: what needs the accountants' attention, each figure a link."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from accounting.models import BalanceChange, BalanceDelta, JournalEntry
from accounting.selectors import suspense_receipts_unallocated, suspense_receipts_unallocated_count
from accounting.services import journal_entry_reverse
from organizations.services import organization_create
from reconciliation.selectors import attention_panel_get
from reconciliation.services import reconciliation_report_create
from tests.factories import WebhookPayloadFactory
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook
from webhooks.models import Delivery, DeliveryResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_of_work(client):
    organization_create(inn="1234567890", name="Acme")
    post_webhook(client, BRIEF_PAYLOAD)  # 145 000,00 to Acme
    post_webhook(client, WebhookPayloadFactory(payer_inn="7707083893", amount=Decimal("77.00")))
    post_webhook(client, {**BRIEF_PAYLOAD, "amount": 1})  # a conflicting repeat
    post_webhook(client, {**BRIEF_PAYLOAD, "amount": "abc"})  # rejected
    now = timezone.now()
    report = reconciliation_report_create(
        period_start=now - timezone.timedelta(days=1), period_end=now
    )
    assert Delivery.objects.filter(result=DeliveryResult.REJECTED).count() == 1
    return report


def _panel(response):
    return response.context["panel"], response.context["links"]


def test_panel_shows_todays_figures(accountant, day_of_work):
    panel, _ = _panel(accountant.get("/admin/"))

    assert (panel.receipts_today, panel.receipts_today_total) == (2, Decimal("145077.00"))
    assert (panel.unallocated.count, panel.unallocated.more) == (1, False)
    assert panel.unallocated_balance == Decimal("77.00")
    assert (panel.conflicts.count, panel.rejected.count) == (1, 1)
    assert panel.last_report == day_of_work
    # Nothing dispatched or folded them yet: the on-commit tasks never ran in this test.
    pending = BalanceChange.objects.filter(dispatched_at__isnull=True)
    assert panel.undispatched.count == pending.count() > 0
    assert panel.oldest_undispatched == pending.order_by("id").first()
    assert panel.fold_backlog.count == BalanceDelta.objects.count() > 0


def test_panel_counts_stop_at_their_limit(day_of_work):
    panel = attention_panel_get(day=timezone.localdate(), limit=1)

    assert BalanceDelta.objects.count() > 1
    assert (panel.fold_backlog.count, panel.fold_backlog.more) == (1, True)
    assert (panel.conflicts.count, panel.conflicts.more) == (1, False)


def test_yesterdays_receipts_are_not_todays(day_of_work):
    panel = attention_panel_get(day=timezone.localdate() - timezone.timedelta(days=1))

    assert (panel.receipts_today, panel.receipts_today_total) == (0, Decimal("0.00"))


def test_each_figure_links_to_its_filtered_list(accountant, day_of_work):
    page = accountant.get("/admin/")
    _, links = _panel(page)

    for name, url in links.items():
        assert url in page.text.replace("&amp;", "&"), name
        assert accountant.get(url).status_code == 200, name
    receipts = accountant.get(links["receipts_today"]).context["cl"].result_list
    assert sorted(e.payment.amount.amount for e in receipts) == [
        Decimal("77.00"),
        Decimal("145000.00"),
    ]
    unallocated = accountant.get(links["unallocated"]).context["cl"].result_list
    assert [e.party for e in unallocated] == ["7707083893"]
    conflicts = accountant.get(links["conflicts"]).context["cl"].result_list
    assert [d.result for d in conflicts] == [DeliveryResult.CONFLICT]
    rejected = accountant.get(links["rejected"]).context["cl"].result_list
    assert [d.result for d in rejected] == [DeliveryResult.REJECTED]
    undispatched = accountant.get(links["undispatched"]).context["cl"].result_list
    assert undispatched and all(change.dispatched_at is None for change in undispatched)


def test_panel_is_in_russian_with_russian_amounts(accountant, day_of_work):
    text = accountant.get("/admin/").text

    assert "Требует внимания" in text
    assert "145\xa0077,00" in text or "145 077,00" in text


def test_staff_without_journal_access_sees_no_panel(client, day_of_work):
    user = User.objects.create_user("clerk", password="s3cret-pass", is_staff=True)
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "attention-panel" not in response.text


def test_unallocated_count_leaves_out_reversed_and_reclassified_receipts(client):
    inns = ["7707083893", "7728168971", "7736050003"]
    for inn in inns:
        post_webhook(client, WebhookPayloadFactory(payer_inn=inn, amount=Decimal("10.00")))
    reversed_, reclassified, open_ = (JournalEntry.objects.get(party=inn) for inn in inns)
    journal_entry_reverse(entry=reversed_, reason="sent back to the payer")
    organization_create(inn=inns[1], name="Found later")  # reclassifies its receipts
    assert JournalEntry.objects.filter(reclassifies=reclassified).exists()

    counted = suspense_receipts_unallocated_count(limit=10)

    assert (counted.count, counted.more) == (1, False)
    assert list(suspense_receipts_unallocated()) == [open_]
