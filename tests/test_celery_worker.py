"""Asynchronous behaviour with a real Celery worker process and a real broker."""

import os
import shutil
import signal
import socket
import subprocess
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounting.models import BalanceChange, BalanceDelta
from accounting.tasks import account_balances_fold_task, balance_changes_dispatch_task
from organizations.selectors import organization_balance_get
from organizations.services import organization_create
from tests.factories import WebhookPayloadFactory
from tests.http import http_request
from tests.servers import database_url_of, free_port, gunicorn_server
from tests.webhooks.helpers import WEBHOOK_URL, dumps
from tests.workers import (
    celery_worker,
    children_of,
    logged_change_ids,
    purge_broker,
    wait_for,
    wait_for_task,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path):
    purge_broker()
    log_path = tmp_path / "worker.log"
    with celery_worker(
        database_url=database_url_of(connection.settings_dict), log_path=log_path
    ) as process:
        yield process, log_path


def _post(base_url: str, payloads) -> list[int]:
    return [http_request(base_url + WEBHOOK_URL, dumps(p))[0] for p in payloads]


def _all_dispatched() -> bool:
    return not BalanceChange.objects.filter(dispatched_at__isnull=True).exists()


def test_worker_logs_each_balance_change_once_and_folds_exactly(app_server, worker):
    _, log_path = worker
    organization_create(inn="1234567890", name="Acme")
    payloads = [WebhookPayloadFactory(amount=Decimal(f"{n}.25")) for n in range(1, 21)]
    expected = sum((p["amount"] for p in payloads), Decimal(0))

    statuses = _post(app_server, payloads + payloads[:5])  # five repeats book nothing

    assert statuses == [200] * 25
    wait_for(_all_dispatched, timeout=60, what="balance changes dispatched")
    assert organization_balance_get(inn="1234567890") == expected
    account_balances_fold_task.delay()
    wait_for(lambda: not BalanceDelta.objects.exists(), timeout=60, what="deltas folded")
    assert organization_balance_get(inn="1234567890") == expected
    logged = Counter(logged_change_ids(log_path.read_text()))
    assert sorted(logged) == sorted(BalanceChange.objects.values_list("id", flat=True))
    assert set(logged.values()) == {1}
    assert "inn=1234567890 account=62.1234567890 amount=+1.25" in log_path.read_text()


def test_broker_outage_loses_nothing_and_the_sweep_logs_each_change_once(tmp_path):
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"
    database_url = database_url_of(connection.settings_dict)
    organization_create(inn="1234567890", name="Acme")
    payloads = [WebhookPayloadFactory(amount=Decimal("10.00")) for _ in range(10)]

    with gunicorn_server(
        database_url=database_url, workers=1, env={"CELERY_BROKER_URL": dead_broker}
    ) as url:
        statuses = _post(url, payloads)

    assert statuses == [200] * 10
    assert organization_balance_get(inn="1234567890") == Decimal("100.00")
    assert BalanceChange.objects.filter(dispatched_at__isnull=True).count() == 10

    purge_broker()
    log_path = tmp_path / "worker.log"
    with celery_worker(database_url=database_url, log_path=log_path):
        first = balance_changes_dispatch_task.delay()
        assert wait_for_task(log_path, first.id, timeout=60) == "10"
        assert _all_dispatched()
        second = balance_changes_dispatch_task.delay()
        assert wait_for_task(log_path, second.id, timeout=60) == "0"  # nothing left to log
        account_balances_fold_task.delay()
        wait_for(lambda: not BalanceDelta.objects.exists(), timeout=60, what="fold")

    logged = Counter(logged_change_ids(log_path.read_text()))
    assert sorted(logged) == sorted(BalanceChange.objects.values_list("id", flat=True))
    assert set(logged.values()) == {1}


def _blocked_dispatch_backend() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE '%%UPDATE accounting_balancechange%%' AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def test_task_of_a_killed_worker_process_is_redelivered_and_logs_once(tmp_path, client):
    organization_create(inn="1234567890", name="Acme")
    from tests.webhooks.helpers import post_webhook

    post_webhook(client, WebhookPayloadFactory(amount=Decimal("7.00")))
    change = BalanceChange.objects.get()
    purge_broker()
    log_path = tmp_path / "worker.log"
    locked = threading.Event()
    release = threading.Event()

    def hold_table_lock():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE accounting_balancechange IN EXCLUSIVE MODE")
                locked.set()
                release.wait(timeout=120)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_table_lock)
    holder.start()
    try:
        locked.wait(timeout=30)
        with celery_worker(
            database_url=database_url_of(connection.settings_dict), log_path=log_path, concurrency=1
        ) as process:
            balance_changes_dispatch_task.delay()
            backend = wait_for(_blocked_dispatch_backend, timeout=60, what="task blocked")
            [child] = children_of(process.pid)
            os.kill(child, signal.SIGKILL)  # the pool process dies mid-task
            wait_for(lambda: not _backend_alive(backend), timeout=30, what="orphan backend gone")
            wait_for(
                lambda: (
                    "WorkerLostError" in log_path.read_text()
                    or "exited with 'signal 9" in log_path.read_text()
                ),
                timeout=30,
                what="worker to notice the lost process",
            )
            release.set()
            holder.join(timeout=30)
            wait_for(_all_dispatched, timeout=60, what="redelivered task")
    finally:
        release.set()
        holder.join(timeout=30)

    assert logged_change_ids(log_path.read_text()) == [change.pk]


def _redis_server(port: int, directory) -> subprocess.Popen:
    """A redis-server of the test's own, which it may stop (never the machine's)."""
    process = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: _port_open(port), timeout=20, what="redis-server")
    return process


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _publish(broker_url: str, task, **options) -> None:
    from settings.celery import app

    with app.connection_for_write(broker_url) as conn, conn.Producer() as producer:
        task.apply_async(producer=producer, **options)


def _after_broker_loss(log_path) -> str:
    text = log_path.read_text()
    return (
        text.split("Connection to broker lost", 1)[1] if "Connection to broker lost" in text else ""
    )


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_worker_reconnects_after_its_broker_restarts_mid_task(tmp_path, client):
    from tests.webhooks.helpers import post_webhook

    organization_create(inn="1234567890", name="Acme")
    post_webhook(client, WebhookPayloadFactory(amount=Decimal("7.00")))
    change = BalanceChange.objects.get()
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = _redis_server(port, tmp_path)
    log_path = tmp_path / "worker.log"
    locked, release = threading.Event(), threading.Event()

    def hold_table_lock():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE accounting_balancechange IN EXCLUSIVE MODE")
                locked.set()
                release.wait(timeout=120)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_table_lock)
    try:
        with celery_worker(
            database_url=database_url_of(connection.settings_dict),
            log_path=log_path,
            env={"CELERY_BROKER_URL": broker},
        ) as process:
            # One task held unacknowledged (a countdown), one running, blocked on the lock.
            _publish(broker, account_balances_fold_task, countdown=600)
            holder.start()
            locked.wait(timeout=30)
            _publish(broker, balance_changes_dispatch_task)
            wait_for(_blocked_dispatch_backend, timeout=60, what="task blocked")
            redis.terminate()
            redis.wait(timeout=20)
            wait_for(lambda: _after_broker_loss(log_path), timeout=30, what="broker loss seen")
            redis = _redis_server(port, tmp_path)
            wait_for(
                lambda: "Connected to" in _after_broker_loss(log_path),
                timeout=60,
                what="the worker to reconnect",
            )
            release.set()  # the running task ends and acknowledges after the reconnection
            wait_for(_all_dispatched, timeout=60, what="the blocked dispatch to finish")
            wait_for(
                lambda: "succeeded" in _after_broker_loss(log_path),
                timeout=30,
                what="the task's end logged",
            )
            _publish(broker, balance_changes_dispatch_task)
            wait_for(
                lambda: _after_broker_loss(log_path).count("succeeded") >= 2,
                timeout=60,
                what="a task taken after the broker came back",
            )
            assert process.poll() is None
        assert "Unrecoverable error" not in log_path.read_text()
        assert logged_change_ids(log_path.read_text()) == [change.pk]
    finally:
        release.set()
        if holder.is_alive():
            holder.join(timeout=30)
        redis.terminate()
        redis.wait(timeout=20)
