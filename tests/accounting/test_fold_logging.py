"""A fold that folded nothing is logged at DEBUG by a real worker; one that folded logs at
INFO. At the service's default INFO the idle fold's lines are not written at all."""

import logging

import pytest
from celery.app.trace import LOG_SUCCESS
from django.conf import settings
from django.db import connection

from accounting.log_filters import FOLD_BEAT_ENTRY, FOLD_TASK, IdleFoldFilter
from accounting.models import BalanceDelta
from accounting.tasks import account_balances_fold_task
from tests.factories import WebhookPayloadFactory
from tests.servers import database_url_of
from tests.webhooks.helpers import post_webhook
from tests.workers import celery_worker, purge_broker, wait_for


def test_the_filter_names_the_fold_task_and_its_beat_entry():
    assert account_balances_fold_task.name == FOLD_TASK
    assert settings.CELERY_BEAT_SCHEDULE[FOLD_BEAT_ENTRY]["task"] == FOLD_TASK


def _success_record(name: str, return_value: str) -> logging.LogRecord:
    args = {"id": "x", "name": name, "return_value": return_value, "runtime": 0.01}
    return logging.LogRecord(
        "celery.app.trace", logging.INFO, __file__, 1, LOG_SUCCESS, (args,), None
    )


def test_at_info_an_idle_fold_is_dropped_and_other_successes_are_kept(monkeypatch):
    monkeypatch.setattr(logging.getLogger(), "level", logging.INFO)
    keep = IdleFoldFilter()

    assert keep.filter(_success_record(FOLD_TASK, "0")) is False
    assert keep.filter(_success_record(FOLD_TASK, "3")) is True
    assert keep.filter(_success_record("accounting.tasks.balance_changes_dispatch_task", "0"))


def _fold_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if f"Task {FOLD_TASK}[" in line]


@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_an_idle_fold_at_debug_and_a_fold_that_folds_at_info(client, tmp_path):
    purge_broker()
    log_path = tmp_path / "worker.log"
    with celery_worker(
        database_url=database_url_of(connection.settings_dict),
        log_path=log_path,
        env={"LOG_LEVEL": "DEBUG"},
    ):
        account_balances_fold_task.delay()
        wait_for(lambda: "succeeded" in "".join(_fold_lines(log_path.read_text())),
                 timeout=30, what="idle fold logged")  # fmt: skip
        idle = _fold_lines(log_path.read_text())

        assert post_webhook(client, WebhookPayloadFactory()).status_code == 200
        assert BalanceDelta.objects.count() == 2
        account_balances_fold_task.delay()
        wait_for(lambda: not BalanceDelta.objects.exists(), timeout=30, what="deltas folded")
        wait_for(lambda: any(line.rstrip().endswith(": 2") for line in _fold_lines(log_path.read_text())),
                 timeout=30, what="fold success line")  # fmt: skip
        after = _fold_lines(log_path.read_text())

    assert len(idle) == 2  # received and succeeded: 0
    assert all(" DEBUG " in line for line in idle), idle
    (folded,) = [line for line in after if line.rstrip().endswith(": 2")]
    assert " INFO " in folded
