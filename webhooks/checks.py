"""System checks of the intake's settings: the service does not start without a secret."""

from django.conf import settings
from django.core import checks

from common.network import networks
from webhooks.signatures import secret_key


@checks.register(checks.Tags.security)
def webhook_secret_check(app_configs=None, **kwargs):
    errors = []
    if not settings.WEBHOOK_SECRETS and not settings.WEBHOOK_ALLOW_UNSIGNED and not settings.DEBUG:
        errors.append(
            checks.Error(
                "WEBHOOK_SECRETS is empty: the webhook would refuse every delivery.",
                hint="Set WEBHOOK_SECRETS to the secret shared with the bank (comma-separated "
                "while rotating). WEBHOOK_ALLOW_UNSIGNED=true accepts unsigned deliveries, "
                "for development only.",
                id="webhooks.E001",
            )
        )
    for secret in settings.WEBHOOK_SECRETS:
        try:
            key = secret_key(secret)
        except ValueError as exc:
            errors.append(checks.Error(f"WEBHOOK_SECRETS: {exc}.", id="webhooks.E002"))
            continue
        if len(key) < 16:
            errors.append(
                checks.Error(
                    "WEBHOOK_SECRETS holds a secret shorter than 16 bytes.",
                    hint="Use at least 32 random bytes, e.g. `openssl rand -hex 32`.",
                    id="webhooks.E003",
                )
            )
    for name in ("WEBHOOK_ALLOWED_NETWORKS", "TRUSTED_PROXIES"):
        try:
            networks(tuple(getattr(settings, name)))
        except ValueError as exc:
            errors.append(checks.Error(f"{name}: {exc}.", id="webhooks.E004"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def webhook_unsigned_check(app_configs=None, **kwargs):
    if settings.WEBHOOK_ALLOW_UNSIGNED:
        return [
            checks.Warning(
                "WEBHOOK_ALLOW_UNSIGNED is on: anyone who can reach the webhook can book payments.",
                hint="For development only; set WEBHOOK_SECRETS instead.",
                id="webhooks.W001",
            )
        ]
    return []
