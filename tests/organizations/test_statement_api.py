import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.services import journal_entry_reverse
from tests.factories import OrganizationFactory, WebhookPayloadFactory
from tests.webhooks.helpers import post_webhook
from webhooks.models import Payment

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations/1234567890/statement/"


@pytest.fixture
def history(client):
    OrganizationFactory(inn="1234567890")
    for amount in ("100.00", "0.10", "0.20"):
        post_webhook(client, WebhookPayloadFactory(amount=Decimal(amount)))
    first = Payment.objects.order_by("id").first()
    journal_entry_reverse(entry=first.entry, reason="returned")


def _exact(response):
    return json.loads(response.content, parse_float=Decimal)


def test_statement_has_running_balances_and_closing(client, history):
    response = client.get(URL)

    assert response.status_code == 200
    body = _exact(response)
    assert (body["opening_balance"], body["closing_balance"]) == (0, Decimal("0.30"))
    assert body["count"] == 4
    assert [
        (line["kind"], line["debit"], line["credit"], line["balance"]) for line in body["lines"]
    ] == [
        ("payment", 0, 100, 100),
        ("payment", 0, Decimal("0.10"), Decimal("100.10")),
        ("payment", 0, Decimal("0.20"), Decimal("100.30")),
        ("reversal", 100, 0, Decimal("0.30")),
    ]


def test_statement_for_a_future_period_opens_and_closes_at_the_balance(client, history):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()

    body = _exact(client.get(URL, {"from": tomorrow, "to": tomorrow}))

    assert (body["opening_balance"], body["closing_balance"]) == (Decimal("0.30"), Decimal("0.30"))
    assert body["lines"] == []


def test_statement_pages_keep_running_balances(client, history):
    body = _exact(client.get(URL, {"page": 2, "page_size": 2}))

    assert (body["page"], body["count"]) == (2, 4)
    assert [line["balance"] for line in body["lines"]] == [Decimal("100.30"), Decimal("0.30")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2024-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2024-05-02", "to": "2024-05-01"}, "to"),
        ({"page": 0}, "page"),
        ({"page_size": 100000}, "page_size"),
    ],
)
def test_bad_statement_query_is_400_naming_the_field(client, history, query, field):
    response = client.get(URL, query)

    assert response.status_code == 400
    assert field in response.json()


def test_statement_of_unknown_inn_is_404(client):
    assert client.get("/api/v1/organizations/0000000000/statement/").status_code == 404
