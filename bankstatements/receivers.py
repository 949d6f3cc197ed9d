"""Matching again when a webhook books a payment that a statement line is waiting for."""

import logging

from webhooks.models import Payment
from webhooks.signals import payment_booked

logger = logging.getLogger(__name__)


def payment_booked_receiver(sender, *, payment_id: int, key, **kwargs) -> None:
    """Queue the matching of the statements with an open line of the payment's document key.

    Runs after the webhook's booking commits, in the request. For a document day with no
    open statement line (open_line_days, refreshed every two seconds) it does nothing; else
    one indexed query, and a publish only when a statement shows the payment. A broker that
    cannot be reached loses nothing: the periodic rematch, the next import or "Match again"
    in the admin matches the line.
    """
    from bankstatements.services import open_line_days, statements_with_open_lines_of
    from bankstatements.tasks import statements_rematch_task

    if key.document_day not in open_line_days():
        return
    statement_ids = statements_with_open_lines_of(key=key)
    if not statement_ids:
        return
    try:
        statements_rematch_task.delay(statement_ids)
    except Exception:  # any broker failure
        logger.warning("Broker unavailable; statements %s not matched again", statement_ids)


def connect() -> None:
    payment_booked.connect(
        payment_booked_receiver, sender=Payment, dispatch_uid="bankstatements.rematch"
    )
