"""Reads of balances and statements need an API key scoped to the organization."""

from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.authentication import ApiKeyRateThrottle
from organizations.models import ApiKey, ApiKeyScope
from organizations.services import api_key_issue, api_key_revoke, organization_create
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook

pytestmark = pytest.mark.django_db

BALANCE = "/api/v1/organizations/{}/balance/"
STATEMENT = "/api/v1/organizations/{}/statement/"


@pytest.fixture(autouse=True)
def _keys_required(settings):
    settings.API_AUTH_REQUIRED = True


@pytest.fixture
def acme(client):
    organization = organization_create(inn="1234567890", name="Acme")
    organization_create(inn="7707083893", name="Other")
    post_webhook(client, BRIEF_PAYLOAD)
    return organization


def _bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_key_reads_its_organization_with_the_brief_body(client, acme):
    _, key = api_key_issue(name="Acme ERP", organizations=[acme])

    response = client.get(BALANCE.format("1234567890"), **_bearer(key))

    assert response.status_code == 200
    assert response.content == b'{"inn":"1234567890","balance":145000}'


def test_without_a_key_reads_are_401(client, acme):
    response = client.get(BALANCE.format("1234567890"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get(STATEMENT.format("1234567890")).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer ", "Bearer " + "x" * 300, "Bearer ключ.ключ", "Bearer a.b"],
)
def test_a_wrong_key_is_401(client, acme, header):
    assert client.get(BALANCE.format("1234567890"), HTTP_AUTHORIZATION=header).status_code == 401


def test_an_inn_outside_the_keys_scope_is_the_same_404_as_an_unknown_one(client, acme):
    _, key = api_key_issue(name="Acme ERP", organizations=[acme])

    other = client.get(BALANCE.format("7707083893"), **_bearer(key))
    unknown = client.get(BALANCE.format("0000000000"), **_bearer(key))
    statement = client.get(STATEMENT.format("7707083893"), **_bearer(key))

    assert other.status_code == unknown.status_code == statement.status_code == 404
    assert other.json() == {"detail": "No organization with INN 7707083893."}
    assert unknown.json() == {"detail": "No organization with INN 0000000000."}


def test_a_revoked_or_expired_key_is_401(client, acme):
    revoked, revoked_key = api_key_issue(name="old", organizations=[acme])
    api_key_revoke(api_key=revoked)
    _, expired_key = api_key_issue(
        name="expired", organizations=[acme], expiry_date=timezone.now() - timedelta(minutes=1)
    )

    assert client.get(BALANCE.format("1234567890"), **_bearer(revoked_key)).status_code == 401
    assert client.get(BALANCE.format("1234567890"), **_bearer(expired_key)).status_code == 401


def test_a_key_without_the_balances_scope_is_403(client, acme):
    _, key = api_key_issue(
        name="importer", organizations=[acme], scopes=[ApiKeyScope.STATEMENT_IMPORT]
    )

    assert client.get(BALANCE.format("1234567890"), **_bearer(key)).status_code == 403


def test_keys_are_stored_hashed_and_their_last_use_is_recorded(client, acme):
    api_key, key = api_key_issue(name="Acme ERP", organizations=[acme])

    client.get(STATEMENT.format("1234567890"), **_bearer(key))

    stored = ApiKey.objects.get(pk=api_key.pk)
    assert key not in (stored.hashed_key, stored.id) and stored.hashed_key.startswith("sha512$$")
    assert stored.last_used_at is not None


def test_reads_over_the_keys_rate_are_429(client, acme, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "rate", "2/min", raising=False)
    _, key = api_key_issue(name="Acme ERP", organizations=[acme])
    _, other_key = api_key_issue(name="Another", organizations=[acme])

    answers = [client.get(BALANCE.format("1234567890"), **_bearer(key)) for _ in range(3)]
    other = client.get(BALANCE.format("1234567890"), **_bearer(other_key))

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert other.status_code == 200  # counted per key


def test_statement_pagination_is_bounded(client, settings, acme):
    settings.API_AUTH_REQUIRED = False

    huge_page = client.get(STATEMENT.format("1234567890"), {"page": 10**30})
    last_day = client.get(STATEMENT.format("1234567890"), {"to": "9999-12-31"})

    assert huge_page.status_code == 400 and "page" in huge_page.json()
    assert last_day.status_code == 400 and "to" in last_day.json()


def test_the_admin_shows_a_new_key_once_and_stores_only_its_hash(admin_client, acme):
    response = admin_client.post(
        "/admin/organizations/apikey/add/",
        {"name": "Acme ERP", "organizations": [acme.pk], "scopes": ["balances"]},
        follow=True,
    )

    message = next(str(m) for m in response.context["messages"] if "Ключ API" in str(m))
    key = message.split(": ", 1)[1].split(" ", 1)[0]
    api_key = ApiKey.objects.get()
    assert api_key.created_by is not None and list(api_key.organizations.all()) == [acme]
    assert ApiKey.objects.get_from_key(key) == api_key
    page = admin_client.get(f"/admin/organizations/apikey/{api_key.pk}/change/")
    assert key not in page.content.decode()


def test_swagger_declares_the_bearer_scheme(client):
    schema = client.get("/api/v1/schema/?format=json").json()

    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    balance = schema["paths"]["/api/v1/organizations/{inn}/balance/"]["get"]
    assert {"ApiKey": []} in balance["security"]
