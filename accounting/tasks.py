"""Thin Celery tasks over accounting services; each is idempotent and safe to redeliver."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounting.services import (
    account_balances_fold,
    balance_changes_dispatch,
    journal_days_close,
)

_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def balance_changes_dispatch_task() -> int:
    """Log the pending balance changes; queued after postings commit, and by beat as the
    sweep for anything no such dispatch reached (broker down, worker lost)."""
    return balance_changes_dispatch()


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=3)
def account_balances_fold_task() -> int:
    """Consolidate committed balance deltas into cached balances."""
    return account_balances_fold()


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=3)
def journal_days_close_task() -> int:
    """Close the journal days that are over; returns how many were closed."""
    return len(journal_days_close())
