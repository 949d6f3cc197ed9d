from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounting.models import AccountType
from organizations.exceptions import InvalidInn, OrganizationError, OrganizationExists
from organizations.models import Organization
from organizations.services import organization_create
from tests.factories import WebhookPayloadFactory
from tests.webhooks.helpers import balance_of, post_webhook

pytestmark = pytest.mark.django_db


def test_creating_an_organization_opens_its_liability_account():
    organization = organization_create(inn="1234567890", name="  Acme  ")

    assert organization.name == "Acme"
    assert organization.account.code == "62.1234567890"
    assert organization.account.type == AccountType.LIABILITY


def test_new_organization_has_zero_balance(client):
    organization_create(inn="123456789012", name="Sole trader")

    assert balance_of(client, "123456789012").content == b'{"inn":"123456789012","balance":0}'


@pytest.mark.parametrize("inn", ["", "123", "12345678901", "12345abcde", "1234567890 1"])
def test_invalid_inn_is_refused(inn):
    with pytest.raises(InvalidInn):
        organization_create(inn=inn, name="Acme")


def test_empty_name_is_refused():
    with pytest.raises(OrganizationError):
        organization_create(inn="1234567890", name=" ")


def test_duplicate_inn_is_refused():
    organization_create(inn="1234567890", name="Acme")

    with pytest.raises(OrganizationExists):
        organization_create(inn="1234567890", name="Acme again")
    assert Organization.objects.count() == 1


@pytest.mark.parametrize("inn", ["0000000000", "abc", "1234567890123"])
def test_balance_of_unknown_inn_is_404(client, inn):
    response = balance_of(client, inn)

    assert response.status_code == 404
    assert inn in response.json()["detail"]


def test_inn_checksum_is_reported_not_enforced():
    valid = organization_create(inn="7707083893", name="Checksum OK")
    brief = organization_create(inn="1234567890", name="Brief example")

    assert valid.inn_checksum_valid
    assert not brief.inn_checksum_valid


def test_create_organization_command_moves_unidentified_receipts(client, capsys):
    post_webhook(client, WebhookPayloadFactory(payer_inn="7707083893", amount=Decimal("12.34")))

    call_command("create_organization", "--inn", "7707083893", "--name", "Sberbank")

    assert "balance 12.34" in capsys.readouterr().out
    assert balance_of(client, "7707083893").content == b'{"inn":"7707083893","balance":12.34}'


def test_create_organization_command_reports_errors():
    with pytest.raises(CommandError, match="10 or 12 digits"):
        call_command("create_organization", "--inn", "12", "--name", "Short")
