"""The service answers 503 with Retry-After when PostgreSQL cannot be reached."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.http import http_request
from tests.webhooks.helpers import BRIEF_PAYLOAD, dumps

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_without_database():
    """gunicorn serving the app with DATABASE_URL pointing at a port nobody listens on."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_free_port()}/nothing",
        "DJANGO_SETTINGS_MODULE": "settings.settings",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "settings.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


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
