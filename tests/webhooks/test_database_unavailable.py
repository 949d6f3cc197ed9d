"""The service answers 503 with Retry-After when PostgreSQL cannot be reached."""

import pytest

from tests.http import http_request
from tests.servers import free_port, gunicorn_server
from tests.webhooks.helpers import BRIEF_PAYLOAD, dumps


@pytest.fixture(scope="module")
def server_without_database():
    """The app with DATABASE_URL pointing at a port nobody listens on."""
    with gunicorn_server(
        database_url=f"postgres://postgres@127.0.0.1:{free_port()}/nothing", workers=1
    ) as url:
        yield url


def test_webhook_is_503_with_retry_after_when_database_is_down(server_without_database):
    status, headers, body = http_request(
        f"{server_without_database}/api/v1/webhook/bank/", dumps(BRIEF_PAYLOAD)
    )

    assert status == 503
    assert headers["Retry-After"] == "5"
    assert b"database" in body


def test_balance_is_503_when_database_is_down(server_without_database):
    status, headers, _ = http_request(
        f"{server_without_database}/api/v1/organizations/1234567890/balance/"
    )

    assert status == 503
    assert headers["Retry-After"] == "5"


def test_invalid_input_is_still_400_when_database_is_down(server_without_database):
    status, _, body = http_request(
        f"{server_without_database}/api/v1/webhook/bank/", dumps({**BRIEF_PAYLOAD, "amount": 0})
    )

    assert status == 400
    assert b"amount" in body
