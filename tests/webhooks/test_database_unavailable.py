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


@pytest.mark.django_db(transaction=True)
def test_webhook_blocked_by_a_long_lock_is_503_and_booked_once_when_retried():
    import json
    import threading

    from django.db import connection, transaction

    from tests.factories import WebhookPayloadFactory
    from tests.servers import database_url_of
    from webhooks.models import Payment

    payload = WebhookPayloadFactory()
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE accounting_balancedelta IN EXCLUSIVE MODE")
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict),
        workers=1,
        env={"DATABASE_LOCK_TIMEOUT_MS": "1000"},
    ) as url:
        holder = threading.Thread(target=hold_lock)
        holder.start()
        try:
            assert locked.wait(timeout=30)
            # Answered while the lock is still held: the request did not wait for it.
            blocked = http_request(f"{url}/api/v1/webhook/bank/", dumps(payload), timeout=20)
        finally:
            release.set()
            holder.join(timeout=30)
        retried = http_request(f"{url}/api/v1/webhook/bank/", dumps(payload), timeout=20)

    status, headers, _ = blocked
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert retried[0] == 200
    assert json.loads(retried[2])["result"] in ("booked", "unidentified")
    assert Payment.objects.filter(operation_id=payload["operation_id"]).count() == 1
