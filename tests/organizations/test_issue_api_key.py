"""`manage.py issue_api_key`: the operator's way to issue an API key, next to the admin's."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from organizations.models import ApiKey, ApiKeyScope
from organizations.services import organization_create
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook

pytestmark = pytest.mark.django_db

BALANCE = "/api/v1/organizations/{}/balance/"


@pytest.fixture(autouse=True)
def _keys_required(settings):
    settings.API_AUTH_REQUIRED = True


@pytest.fixture
def acme(client):
    organization = organization_create(inn="1234567890", name="Acme")
    post_webhook(client, BRIEF_PAYLOAD)
    return organization


def issue(*args: str) -> tuple[str, str]:
    """(standard output, standard error) of the command."""
    out, err = StringIO(), StringIO()
    call_command("issue_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_printed_key_reads_its_organizations_balance(client, acme):
    out, err = issue("--name", "Acme ERP", "--inn", "1234567890")

    key = out.strip()
    assert out == key + "\n"  # the key alone, so that $(...) captures it
    response = client.get(BALANCE.format("1234567890"), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.content == b'{"inn":"1234567890","balance":145000}'
    api_key = ApiKey.objects.get()
    assert api_key.name == "Acme ERP" and api_key.scopes == [ApiKeyScope.BALANCES]
    assert f"Issued API key {api_key.prefix} (Acme ERP) for INN 1234567890" in err
    assert key not in err


def test_the_key_is_stored_only_as_its_hash(acme):
    out, _ = issue("--name", "Acme ERP", "--inn", "1234567890")

    stored = ApiKey.objects.values().get()
    assert out.strip() not in [str(value) for value in stored.values()]
    assert ApiKey.objects.get_from_key(out.strip()).pk == stored["id"]


def test_several_organizations_and_scopes_are_recorded(acme):
    other = organization_create(inn="7707083893", name="Other")

    issue(
        "--name", "Group ERP", "--inn", "1234567890", "--inn", "7707083893",
        "--scope", "balances", "--scope", "statement-import",
    )  # fmt: skip

    api_key = ApiKey.objects.get()
    assert set(api_key.organizations.all()) == {acme, other}
    assert api_key.scopes == [ApiKeyScope.BALANCES, ApiKeyScope.STATEMENT_IMPORT]


def test_expires_days_sets_the_expiry(acme):
    before = timezone.now()

    issue("--name", "Temporary", "--inn", "1234567890", "--expires-days", "30")

    expiry = ApiKey.objects.get().expiry_date
    assert before + timedelta(days=30) <= expiry <= timezone.now() + timedelta(days=30)


def test_without_expires_days_the_key_never_expires(acme):
    issue("--name", "Forever", "--inn", "1234567890")

    assert ApiKey.objects.get().expiry_date is None


def test_an_unknown_inn_is_named_and_nothing_is_issued(acme):
    with pytest.raises(CommandError, match=r"--inn: no organization with INN 0000000000\."):
        issue("--name", "Typo", "--inn", "1234567890", "--inn", "0000000000")

    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "everything"], r"--scope: invalid choice: 'everything'"),
        (["--expires-days", "0"], r"--expires-days: must be at least 1"),
        (["--expires-days", "soon"], r"--expires-days: 'soon' is not a whole number of days"),
    ],
)
def test_invalid_options_are_named_and_nothing_is_issued(acme, args, message):
    with pytest.raises(CommandError, match=message):
        issue("--name", "Acme ERP", "--inn", "1234567890", *args)

    assert not ApiKey.objects.exists()


def test_a_blank_name_is_refused(acme):
    with pytest.raises(CommandError, match="needs a name"):
        issue("--name", "  ", "--inn", "1234567890")

    assert not ApiKey.objects.exists()
