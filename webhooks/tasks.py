from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks.imitation import bank_imitation_deliver
from webhooks.models import BankImitation
from webhooks.services import rejected_deliveries_purge

_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def bank_imitation_deliver_task(imitation_id: int) -> None:
    """Deliver a bank imitation to the webhook; a missing row means nothing to do."""
    imitation = BankImitation.objects.filter(pk=imitation_id).first()
    if imitation is not None:
        bank_imitation_deliver(imitation=imitation)


@shared_task(autoretry_for=_TRANSIENT, retry_backoff=True, max_retries=5)
def rejected_deliveries_purge_task() -> int:
    """Remove rejected deliveries past REJECTED_DELIVERY_RETENTION_DAYS; returns how many."""
    return rejected_deliveries_purge()
