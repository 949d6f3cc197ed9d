from datetime import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from reconciliation.services import (
    reconciliation_report_create,
    reconciliation_report_create_for_yesterday,
)

_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def reconciliation_report_create_task(period_start: str, period_end: str) -> int:
    """Create the report for an ISO-8601 period; returns the report id."""
    report = reconciliation_report_create(
        period_start=datetime.fromisoformat(period_start),
        period_end=datetime.fromisoformat(period_end),
    )
    return report.pk


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def reconciliation_report_create_for_yesterday_task() -> int:
    """The scheduled daily report, for the previous day; returns the report id."""
    return reconciliation_report_create_for_yesterday().pk
