"""GET /metrics: Prometheus text from the real app under gunicorn (several worker processes
adding up their counts), a real Celery worker's task outcomes, the database's backlog, and
the page's access rules."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accounting.models import BalanceChange, BalanceDelta
from reconciliation.services import reconciliation_report_create
from tests.factories import WebhookPayloadFactory
from tests.http import http_request
from tests.servers import database_url_of, gunicorn_server
from tests.webhooks.helpers import WEBHOOK_URL, dumps
from tests.workers import celery_worker, purge_broker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-token-for-tests"


def _samples(body: bytes) -> dict[tuple, float]:
    """{(sample name, sorted label items): value} of a Prometheus text page."""
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _scrape(base_url: str) -> dict[tuple, float]:
    status, headers, body = http_request(
        base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=")
    return _samples(body)


@pytest.fixture
def served(tmp_path):
    """gunicorn with 3 worker processes and a Celery worker, sharing a metrics root as
    bin/service sets it up."""
    root = tmp_path / "metrics"
    web_folder = root / "web-test"
    web_folder.mkdir(parents=True)
    database_url = database_url_of(connection.settings_dict)
    purge_broker()
    env = {"METRICS_TOKEN": TOKEN, "METRICS_MULTIPROC_ROOT": str(root)}
    with (
        gunicorn_server(
            database_url=database_url,
            workers=3,
            env={**env, "PROMETHEUS_MULTIPROC_DIR": str(web_folder)},
        ) as url,
        celery_worker(database_url=database_url, log_path=tmp_path / "worker.log", env=env),
    ):
        yield url


def test_metrics_add_up_every_process_and_show_the_books_backlog(served):
    booked = [WebhookPayloadFactory(amount=Decimal("10.00")) for _ in range(6)]
    statuses = [http_request(served + WEBHOOK_URL, dumps(p))[0] for p in booked]
    statuses.append(http_request(served + WEBHOOK_URL, dumps(booked[0]))[0])  # duplicate
    statuses.append(http_request(served + WEBHOOK_URL, dumps({**booked[1], "amount": 11}))[0])
    statuses.append(http_request(served + WEBHOOK_URL, dumps({"amount": "x"}))[0])
    assert statuses == [200] * 8 + [400]

    samples = _scrape(served)

    def deliveries(result):
        return samples.get(("bank_webhook_deliveries_total", (("result", result),)), 0)

    # Six first deliveries to an unknown INN, whichever of the 3 processes took each.
    assert deliveries("unidentified") == 6
    assert deliveries("duplicate") == 1
    assert deliveries("conflict") == 1
    assert deliveries("rejected") == 1
    assert samples[("bank_webhook_booking_seconds_count", ())] == 8
    assert samples[("bank_webhook_booking_seconds_bucket", (("le", "+Inf"),))] == 8
    # django-prometheus's request and database metrics, from the lean API stack too.
    webhook_posts = sum(
        value
        for (name, labels), value in samples.items()
        if name == "django_http_requests_total_by_view_transport_method_total"
        and ("method", "POST") in labels
        and ("view", "bank-webhook") in labels
    )
    assert webhook_posts == 9
    assert sum(v for (n, _), v in samples.items() if n == "django_db_execute_total") > 0
    # The gauges are the database's figures at the moment of the scrape.
    assert samples[("bank_webhook_balance_deltas_pending", ())] == BalanceDelta.objects.count()
    assert BalanceDelta.objects.count() >= 12  # nothing folded them: no beat runs here

    # The Celery worker's dispatch tasks (queued after each booking) count as successes.
    def dispatch_successes():
        key = (
            "bank_webhook_celery_task_outcomes_total",
            (("outcome", "success"), ("task", "accounting.tasks.balance_changes_dispatch_task")),
        )
        return _scrape(served).get(key, 0)

    assert wait_for(dispatch_successes, timeout=60, what="dispatch task outcomes") >= 1
    wait_for(
        lambda: not BalanceChange.objects.filter(dispatched_at__isnull=True).exists(),
        timeout=60,
        what="balance changes dispatched",
    )
    after = _scrape(served)
    assert after[("bank_webhook_balance_changes_undispatched", ())] == 0
    assert after[("bank_webhook_balance_change_oldest_undispatched_age_seconds", ())] == 0


def test_undispatched_changes_and_the_last_reconciliation_are_read_at_scrape_time(client):
    from tests.webhooks.helpers import post_webhook

    for _ in range(3):
        assert post_webhook(client, WebhookPayloadFactory()).status_code == 200
    BalanceChange.objects.update(dispatched_at=None)
    oldest = BalanceChange.objects.order_by("created_at").first().created_at

    with override_settings(METRICS_TOKEN=TOKEN):
        before = _samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content)
        now = timezone.now()
        report = reconciliation_report_create(
            period_start=now - timedelta(days=1), period_end=now + timedelta(seconds=1)
        )
        after = _samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content)

    assert before[("bank_webhook_balance_changes_undispatched", ())] == 3
    age = before[("bank_webhook_balance_change_oldest_undispatched_age_seconds", ())]
    assert 0 < age <= (timezone.now() - oldest).total_seconds()
    assert before[("bank_webhook_reconciliation_last_timestamp_seconds", ())] == 0
    assert before[("bank_webhook_reconciliation_last_status", (("status", "ok"),))] == 0
    assert after[("bank_webhook_reconciliation_last_status", (("status", report.status),))] == 1
    assert after[("bank_webhook_reconciliation_last_timestamp_seconds", ())] == pytest.approx(
        report.created_at.timestamp()
    )


@pytest.mark.parametrize(
    ("overrides", "extra", "status"),
    [
        ({}, {}, 404),
        ({"METRICS_TOKEN": TOKEN}, {}, 403),
        ({"METRICS_TOKEN": TOKEN}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, 403),
        ({"METRICS_TOKEN": TOKEN}, {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}, 200),
        ({"METRICS_ALLOWED_NETWORKS": ["10.0.0.0/8"]}, {"REMOTE_ADDR": "10.1.2.3"}, 200),
        ({"METRICS_ALLOWED_NETWORKS": ["10.0.0.0/8"]}, {"REMOTE_ADDR": "192.0.2.7"}, 403),
        (
            {"METRICS_ALLOWED_NETWORKS": ["10.0.0.0/8"], "METRICS_TOKEN": TOKEN},
            {"REMOTE_ADDR": "192.0.2.7", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
            200,
        ),
    ],
)
def test_metrics_need_a_token_or_an_allowed_network_and_are_off_by_default(
    client, overrides, extra, status
):
    with override_settings(**{"METRICS_TOKEN": "", "METRICS_ALLOWED_NETWORKS": [], **overrides}):
        response = client.get("/metrics", **extra)

    assert response.status_code == status
    if status == 200:
        assert b"# TYPE bank_webhook_deliveries_total counter" in response.content
    else:
        assert b"bank_webhook" not in response.content


def test_a_token_with_characters_outside_ascii_is_refused_not_a_500(client):
    with override_settings(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_NETWORKS=[]):
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer токен")

    assert response.status_code == 403


def test_a_malformed_metrics_network_is_a_check_error_naming_it():
    from common.checks import metrics_access_check

    with override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8", "not-a-network"]):
        (error,) = metrics_access_check()

    assert error.id == "common.E002"
    assert "not-a-network" in error.msg
