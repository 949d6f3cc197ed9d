"""The Celery application: `celery -A settings worker|beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.settings")

app = Celery("bank_webhook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
