from celery import shared_task
from django.db import InterfaceError, OperationalError

from bankstatements.services import statements_rematch, statements_rematch_open

_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def statements_rematch_task(statement_ids: list[int]) -> int:
    """Match again the open lines of these statements (missing ones are skipped); returns
    how many lines changed."""
    return statements_rematch(statement_ids=statement_ids)


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=3)
def statements_rematch_open_task() -> int:
    """The periodic sweep: match again every statement with open lines."""
    return statements_rematch_open()
