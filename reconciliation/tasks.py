from datetime import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from reconciliation.services import reconciliation_report_create, yesterday_period

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
def reconciliation_report_create_for_yesterday() -> int:
    """The scheduled daily report, for the previous day."""
    start, end = yesterday_period()
    return reconciliation_report_create(period_start=start, period_end=end).pk
