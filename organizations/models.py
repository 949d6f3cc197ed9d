from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from common.validators import printable_text
from organizations.inn import INN_FORMAT_MESSAGE, INN_PATTERN, inn_checksum_valid


class Organization(models.Model):
    inn = models.CharField(
        _("INN"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(INN_PATTERN, INN_FORMAT_MESSAGE)],
    )
    name = models.CharField(_("name"), max_length=255, validators=[printable_text])
    account = models.OneToOneField(
        "accounting.Account",
        on_delete=models.PROTECT,
        related_name="organization",
        verbose_name=_("account"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(inn__regex=r"^([0-9]{10}|[0-9]{12})$"), name="inn_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (INN {self.inn})"

    @property
    def inn_checksum_valid(self) -> bool:
        return inn_checksum_valid(self.inn)


def list_of_balances_scope() -> list[str]:
    return ["balances"]


class ApiKeyScope(models.TextChoices):
    BALANCES = "balances", _("Read balances and statements of its organizations")
    STATEMENT_IMPORT = "statement-import", _("Import bank statements")


class ApiKey(AbstractAPIKey):
    """A key for the JSON API (`Authorization: Bearer <key>`), issued in the admin.

    The key is shown once, when it is issued; only its SHA-512 is stored
    (djangorestframework-api-key). It reads the organizations it is scoped to and no other:
    any other INN answers 404, as an unknown one does. Revoked or expired keys answer 401.
    """

    organizations = models.ManyToManyField(
        Organization, related_name="api_keys", blank=True, verbose_name=_("organizations")
    )
    scopes = ArrayField(
        models.CharField(max_length=32, choices=ApiKeyScope.choices),
        default=list_of_balances_scope,
        help_text=_("What the key may do."),
        verbose_name=_("scopes"),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
