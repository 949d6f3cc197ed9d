import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert "/api/v1/webhook/bank/" in schema["paths"]
    assert "/api/v1/organizations/{inn}/balance/" in schema["paths"]
    statements = schema["paths"]["/api/v1/bank-statements/"]["post"]
    assert "multipart/form-data" in statements["requestBody"]["content"]


def test_schema_has_examples_for_both_endpoints(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    webhook = schema["paths"]["/api/v1/webhook/bank/"]["post"]
    request_examples = webhook["requestBody"]["content"]["application/json"]["examples"]
    assert any(e["value"].get("payer_inn") == "1234567890" for e in request_examples.values())
    balance = schema["paths"]["/api/v1/organizations/{inn}/balance/"]["get"]
    examples = balance["responses"]["200"]["content"]["application/json"]["examples"]
    assert {"inn": "1234567890", "balance": 145000} in [e["value"] for e in examples.values()]


def test_swagger_ui_is_served(client):
    response = client.get("/api/v1/swagger/")

    assert response.status_code == 200
    assert "swagger-ui" in response.text


@pytest.mark.parametrize("path", ["/api/v1/bank-imitation/-448/", "/api/v1/no-such-thing/"])
def test_an_api_path_matching_no_route_answers_json_404(client, path):
    # Found by the contract fuzz: a negative id fell through to Django's HTML page.
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_site_path_matching_no_route_keeps_the_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_schema_links_a_booked_webhook_to_the_payers_balance_and_an_imitation_to_its_run(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    paths = schema["paths"]

    webhook = paths["/api/v1/webhook/bank/"]["post"]["responses"]["200"]["links"]
    imitation = paths["/api/v1/bank-imitation/"]["post"]["responses"]["202"]["links"]

    assert webhook["PayerBalance"] == {
        "operationId": "organization_balance_retrieve",
        "parameters": {"inn": "$request.body#/payer_inn"},
    }
    assert webhook["PayerStatement"]["operationId"] == "organization_statement_retrieve"
    assert imitation["ImitationProgress"] == {
        "operationId": "bank_imitation_retrieve",
        "parameters": {"id": "$response.body#/id"},
    }


@pytest.mark.parametrize(
    ("url", "marker"), [("/api/v1/swagger/", "swagger-ui"), ("/api/v1/redoc/", "redoc")]
)
def test_api_docs_pages_load_only_the_apps_own_files(client, url, marker):
    import re
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.staticfiles import finders

    response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert marker in page.lower()
    # No external host anywhere on the page: no absolute or protocol-relative URL.
    assert re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", page) == []
    referenced = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    static = [u for u in referenced if u.startswith(prefix)]
    assert any(u.endswith(".js") for u in static), referenced
    for asset in static:
        assert not urlsplit(asset).netloc
        assert finders.find(asset.removeprefix(prefix)), asset
