"""Under gunicorn, the machine-to-machine endpoints take the lean middleware stack, and keep
the request id, the host check and the security headers."""

import pytest

from tests.http import http_request
from tests.webhooks.helpers import BRIEF_PAYLOAD, dumps

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_webhook_keeps_request_ids_security_headers_and_no_cookies(app_server):
    status, headers, body = http_request(
        app_server + "/api/v1/webhook/bank/",
        dumps(BRIEF_PAYLOAD),
        headers={"X-Request-Id": "bank-42"},
    )

    assert status == 200, body
    assert headers["X-Request-Id"] == "bank-42"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in headers
    # Only the whole stack's clickjacking middleware sets it (a JSON answer has no frames).
    assert "X-Frame-Options" not in headers


def test_the_lean_stack_still_refuses_an_unknown_host(app_server):
    status, _, _ = http_request(
        app_server + "/api/v1/organizations/1234567890/balance/",
        headers={"Host": "evil.example"},
    )

    assert status == 400


def test_the_admin_keeps_the_whole_stack(app_server):
    status, headers, _ = http_request(app_server + "/admin/login/")

    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in headers.get("Set-Cookie", "")


def test_the_lean_stack_answers_in_english_whatever_the_language(app_server):
    """Without LocaleMiddleware the lean stack would speak LANGUAGE_CODE (ru), in which
    DRF's own messages are translated."""
    status, headers, body = http_request(
        app_server + "/api/v1/organizations/1234567890/statement/?page=abc",
        headers={"Accept-Language": "ru"},
    )

    assert status in (400, 404), body
    text = body.decode()
    assert not any("\u0400" <= ch <= "\u04ff" for ch in text), text  # no Cyrillic
