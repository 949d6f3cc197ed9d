"""The Celery application: `celery -A settings worker|beat`."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import task_failure, task_retry, task_success

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.settings")

app = Celery("bank_webhook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _filesystem_broker_folders(sender, **kwargs):
    """kombu's filesystem transport needs its folders; create them on first use of the app
    (publishing or starting a worker), not when the settings are imported."""
    options = sender.conf.broker_transport_options or {}
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


# Task outcomes for /metrics (common/metrics.py): counted in the worker's processes.
@task_success.connect
def _count_success(sender=None, **kwargs):
    from common.metrics import celery_task_outcome_count

    celery_task_outcome_count(task=sender.name, outcome="success")


@task_failure.connect
def _count_failure(sender=None, **kwargs):
    from common.metrics import celery_task_outcome_count

    celery_task_outcome_count(task=sender.name, outcome="failure")


@task_retry.connect
def _count_retry(sender=None, **kwargs):
    from common.metrics import celery_task_outcome_count

    celery_task_outcome_count(task=sender.name, outcome="retry")
