"""Sentry: off without SENTRY_DSN; with it, an unhandled error of a request is reported with
the request's id and without personal data. Sentry itself is the outside world: its
transport is replaced by one that keeps the events."""

import json
import os
import subprocess
import sys

import pytest
import sentry_sdk
from django.urls import path
from sentry_sdk.transport import Transport

from settings.urls import urlpatterns as app_urlpatterns
from tests.servers import ROOT


def _boom(request):
    raise RuntimeError("the books are on fire")


urlpatterns = [path("test-boom/", _boom), *app_urlpatterns]


class KeepingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.events = []

    def capture_envelope(self, envelope):
        self.events.extend(item.payload.json for item in envelope.items if item.type == "event")


@pytest.fixture
def sentry_events():
    from common.error_tracking import sentry_init

    transport = KeepingTransport()
    sentry_init(
        dsn="http://public@127.0.0.1:9/1",
        environment="test",
        traces_sample_rate=0.0,
        transport=transport,
    )
    yield transport.events
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # an inactive client again for the tests that follow


def _client_state(env: dict) -> dict:
    """Whether Sentry is active once the service's settings are loaded, in a fresh process."""
    script = (
        "import json, django, sentry_sdk; django.setup(); c = sentry_sdk.get_client(); "
        "print(json.dumps({'active': c.is_active(), 'pii': c.should_send_default_pii(), "
        "'environment': c.options.get('environment'), "
        "'integrations': sorted(c.integrations)}))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sentry_is_off_without_a_dsn():
    assert _client_state({})["active"] is False


def test_a_dsn_switches_on_the_django_and_celery_integrations_without_personal_data():
    state = _client_state(
        {"SENTRY_DSN": "http://public@127.0.0.1:9/1", "SENTRY_ENVIRONMENT": "staging"}
    )

    assert state["active"] is True
    assert {"django", "celery"} <= set(state["integrations"])
    assert state["pii"] is False
    assert state["environment"] == "staging"


@pytest.mark.urls("tests.test_error_tracking")
@pytest.mark.django_db
def test_an_unhandled_error_is_reported_with_the_request_id(client, sentry_events):
    client.raise_request_exception = False

    response = client.get("/test-boom/?inn=1234567890", HTTP_X_REQUEST_ID="req-sentry-7")

    assert response.status_code == 500
    assert response["X-Request-Id"] == "req-sentry-7"
    (event,) = [e for e in sentry_events if e.get("level") == "error" and "exception" in e]
    assert event["tags"]["request_id"] == "req-sentry-7"
    assert event["exception"]["values"][-1]["value"] == "the books are on fire"
    assert event["environment"] == "test"
    assert "user" not in event or not event["user"].get("ip_address")
    assert "cookies" not in event.get("request", {})
