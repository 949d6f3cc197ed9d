import json

import pytest
from django.db import connection

from tests.http import http_request
from tests.servers import database_url_of, free_port, gunicorn_server
from tests.webhooks.helpers import BRIEF_PAYLOAD, WEBHOOK_URL, dumps, post_webhook


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_every_dependency(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "storage": "ok",
    }


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_naming_an_unreachable_broker():
    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict),
        workers=1,
        env={"CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"},
    ) as url:
        status, _, body = http_request(url + "/readyz")

    assert status == 503
    checks = json.loads(body)["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"].startswith("unavailable")


@pytest.mark.django_db
def test_request_id_is_echoed_or_made(client):
    given = post_webhook(client, BRIEF_PAYLOAD, HTTP_X_REQUEST_ID="bank-req-42")
    made = client.get("/healthz")

    assert given["X-Request-Id"] == "bank-req-42"
    assert len(made["X-Request-Id"]) == 32


@pytest.mark.django_db(transaction=True)
def test_json_logs_of_a_real_webhook_carry_its_request_and_operation_ids(tmp_path):
    """A webhook posted to gunicorn with JSON logs while the broker is down: the warning the
    booking logs names the caller's request id and the payment's operation id."""
    log_path = tmp_path / "web.log"
    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict),
        workers=1,
        env={"LOG_FORMAT": "json", "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"},
        log_path=log_path,
    ) as url:
        status, headers, _ = http_request(
            url + WEBHOOK_URL, dumps(BRIEF_PAYLOAD), headers={"X-Request-Id": "bank-req-77"}
        )

    assert status == 200
    assert headers["X-Request-Id"] == "bank-req-77"
    records = [
        json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")
    ]
    [warning] = [r for r in records if r.get("message", "").startswith("Broker unavailable")]
    assert warning["level"] == "WARNING"
    assert warning["request_id"] == "bank-req-77"
    assert warning["operation_id"] == BRIEF_PAYLOAD["operation_id"]
