from decimal import Decimal

import pytest

from accounting.models import EntryKind, JournalEntry
from organizations.models import Organization
from tests.factories import OrganizationFactory, WebhookPayloadFactory
from tests.webhooks.helpers import post_webhook
from webhooks.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(client):
    OrganizationFactory(inn="1234567890", name="Acme")
    post_webhook(client, WebhookPayloadFactory(amount=Decimal("10.00")))
    return Payment.objects.get()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/organizations/organization/",
        "/admin/organizations/organization/add/",
        "/admin/accounting/account/",
        "/admin/accounting/journalentry/",
        "/admin/webhooks/payment/",
        "/admin/webhooks/delivery/",
    ],
)
def test_admin_pages_render(admin_client, booked, url):
    assert admin_client.get(url).status_code == 200


def test_admin_shows_exact_balance_in_organization_list(admin_client, booked):
    response = admin_client.get("/admin/organizations/organization/")

    assert "Acme" in response.text
    assert "10,00" in response.text  # the Russian format


def test_admin_creates_organization_through_the_service(admin_client, client):
    post_webhook(client, WebhookPayloadFactory(payer_inn="7707083893", amount=Decimal("5.00")))

    response = admin_client.post(
        "/admin/organizations/organization/add/", {"inn": "7707083893", "name": "Late LLC"}
    )

    assert response.status_code == 302
    organization = Organization.objects.get(inn="7707083893")
    assert organization.account.code == "62.7707083893"
    assert JournalEntry.objects.filter(kind=EntryKind.RECLASSIFICATION).count() == 1


def test_admin_add_form_rejects_bad_inn(admin_client):
    response = admin_client.post(
        "/admin/organizations/organization/add/", {"inn": "12ab", "name": "Bad"}
    )

    assert response.status_code == 200
    assert "10 or 12 digits" in response.text
    assert not Organization.objects.exists()


def test_posted_entries_are_read_only_in_admin(admin_client, booked):
    entry = booked.entry
    change_url = f"/admin/accounting/journalentry/{entry.pk}/change/"
    delete_url = f"/admin/accounting/journalentry/{entry.pk}/delete/"

    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert admin_client.post(change_url, {"memo": "edited"}).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.memo != "edited"


def test_payments_cannot_be_deleted_in_admin(admin_client, booked):
    response = admin_client.post(f"/admin/webhooks/payment/{booked.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Payment.objects.count() == 1
