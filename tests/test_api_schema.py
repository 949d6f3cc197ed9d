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
