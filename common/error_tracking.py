"""Error tracking with Sentry, switched on by SENTRY_DSN (settings.py calls sentry_init).

Django's and Celery's integrations report unhandled exceptions of requests and tasks (and
log records at ERROR). Each event carries the request id (the X-Request-Id the service
answers with, also on every log line) and the webhook's operation_id as tags, so an event,
its log lines and the bank's delivery can be found from one another. No personal data is
sent: `send_default_pii` is left unset, which is False (sentry-sdk 2.75 deprecates setting it
in favour of `data_collection`, whose defaults without it follow `send_default_pii=False`):
no user, IP address, cookies or request bodies, and Sentry's scrubbing of the rest.
"""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from common.observability import operation_id_var, request_id_var


def _with_context_ids(event: dict, hint: dict) -> dict:
    tags = event.setdefault("tags", {})
    for name, variable in (("request_id", request_id_var), ("operation_id", operation_id_var)):
        value = variable.get()
        if value != "-":
            tags.setdefault(name, value)
    return event


def sentry_init(
    *, dsn: str, environment: str, traces_sample_rate: float, transport=None, **options
) -> None:
    """Start reporting to Sentry (once per process, from the settings)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=_with_context_ids,
        transport=transport,
        **options,
    )
