from datetime import date, datetime, time

from django.utils import timezone

from bankstatements.models import StatementSource
from bankstatements.services import bank_statement_import
from tests.factories import WebhookPayloadFactory
from tests.webhooks.helpers import post_webhook


def import_statement(raw: bytes, *, user=None, dry_run=False, name="statement.txt"):
    return bank_statement_import(
        content=raw, file_name=name, source=StatementSource.COMMAND, imported_by=user,
        dry_run=dry_run,
    )  # fmt: skip


def webhook_for(client, *, number: str, day: date, amount, inn: str = "7707083893", **fields):
    """Deliver the webhook of a document dated `day` (noon, the service's time zone)."""
    moment = timezone.make_aware(datetime.combine(day, time(12)))
    payload = WebhookPayloadFactory(
        document_number=number, document_date=moment.isoformat(), amount=amount,
        payer_inn=inn, **fields,
    )  # fmt: skip
    response = post_webhook(client, payload)
    assert response.status_code == 200, response.content
    return payload, response.json()
