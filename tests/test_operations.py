import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings
from django.db import connection

from common.observability import operation_id_var, request_id_var
from tests.http import http_request
from tests.servers import database_url_of, free_port, gunicorn_server
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook


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


def test_json_logs_carry_request_and_operation_ids(capsys):
    config = {
        **django_settings.LOGGING,
        "handlers": {
            "console": {
                **django_settings.LOGGING["handlers"]["console"],
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
    }
    logging.config.dictConfig(config)
    request_token = request_id_var.set("req-1")
    operation_token = operation_id_var.set("ccf0a86d-041b-4991-bcf7-e2352f7b8a4a")
    try:
        logging.getLogger("webhooks").warning("booked")
    finally:
        request_id_var.reset(request_token)
        operation_id_var.reset(operation_token)
        logging.config.dictConfig(django_settings.LOGGING)

    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["message"] == "booked"
    assert record["level"] == "WARNING"
    assert record["request_id"] == "req-1"
    assert record["operation_id"] == "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a"
