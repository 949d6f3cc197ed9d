"""Webhook intake: every delivery is recorded; each operation_id becomes one Payment.

Payments and deliveries are append-only (`webhooks/sql/append_only.sql`); the booking itself
is `webhooks_receive_payment` in `webhooks/sql/receive_payment.sql`. A payment the bank's
statement shows but no webhook announced is booked from the statement
(`webhooks/sql/book_statement_payment.sql`) with no operation_id; the webhook that arrives
for it later gives it its operation_id, the one change a payment row allows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField


class PaymentSource(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    STATEMENT = "statement", _("Bank statement")


class Payment(models.Model):
    """An incoming bank payment, booked exactly once (operation_id is unique).

    The same payment is recognised across sources by its document key: payer INN,
    document number, document day (in the service's time zone) and amount.
    """

    # NULL only for a payment booked from the bank statement whose webhook has not arrived.
    operation_id = models.UUIDField(_("operation id"), unique=True, null=True, blank=True)
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=PaymentSource.choices,
        default=PaymentSource.WEBHOOK,
        db_default=PaymentSource.WEBHOOK,
    )
    amount = MoneyField(
        _("amount"), max_digits=18, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY
    )
    payer_inn = models.CharField(_("payer INN"), max_length=12)
    document_number = models.CharField(_("document number"), max_length=128)
    document_date = models.DateTimeField(_("document date"))
    # SHA-256 of the canonical payload: a repeat with another hash is a conflict.
    payload_hash = models.CharField(_("payload hash"), max_length=64)
    entry = models.OneToOneField(
        "accounting.JournalEntry",
        on_delete=models.PROTECT,
        related_name="payment",
        verbose_name=_("entry"),
    )
    received_at = models.DateTimeField(_("received at"), db_default=models.functions.Now())

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["payer_inn"], name="payment_payer_inn"),
            # The webhook booking looks here for a statement-booked payment of its document.
            models.Index(
                fields=["payer_inn", "document_number"],
                condition=models.Q(operation_id__isnull=True),
                name="payment_awaiting_webhook",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=PaymentSource.values), name="payment_source_valid"
            ),
            # Only a statement-booked payment may wait for its operation_id.
            models.CheckConstraint(
                condition=models.Q(operation_id__isnull=False)
                | models.Q(source=PaymentSource.STATEMENT),
                name="payment_operation_id_unless_from_statement",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(number)s %(amount)s from %(inn)s") % {
            "number": self.document_number,
            "amount": self.amount,
            "inn": self.payer_inn or gettext("unknown INN"),
        }


class DeliveryResult(models.TextChoices):
    BOOKED = "booked", _("Booked to the organization")
    UNIDENTIFIED = "unidentified", _("Booked to unidentified receipts")
    # Also a first delivery for a payment already booked from the bank statement.
    DUPLICATE = "duplicate", _("Exact repeat, nothing booked")
    CONFLICT = "conflict", _("Repeat with different content, nothing booked")
    REJECTED = "rejected", _("Rejected")


class Delivery(models.Model):
    """One HTTP delivery of the bank webhook, whatever its outcome."""

    received_at = models.DateTimeField(_("received at"), db_default=models.functions.Now())
    result = models.CharField(_("result"), max_length=16, choices=DeliveryResult.choices)
    http_status = models.PositiveSmallIntegerField(_("http status"))
    operation_id = models.UUIDField(_("operation id"), null=True, blank=True)
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("payment"),
    )
    # The body as received; for a delivery rejected before its source was authenticated
    # (signature, network, size, type), only its first 2 KiB (body_truncated).
    raw_body = models.TextField(_("raw body"), blank=True)
    # SHA-256 and length of the body as received: set for rejected deliveries.
    body_sha256 = models.CharField(_("body sha256"), max_length=64, blank=True, db_default="")
    body_length = models.PositiveIntegerField(_("body length"), null=True, blank=True)
    body_truncated = models.BooleanField(_("body truncated"), default=False, db_default=False)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(_("remote addr"), null=True, blank=True)
    errors = models.JSONField(_("errors"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(result="conflict"),
                name="delivery_conflicts",
            ),
            # Only rejected rows, for their retention: booked deliveries pay nothing for it.
            models.Index(
                fields=["received_at"],
                condition=models.Q(result="rejected"),
                name="delivery_rejected_received",
            ),
            # A delivery that reached the books is found through its payment (whose
            # operation_id is unique); only the others index their own operation_id, so a
            # booking writes one index of the bank's random ids, not two.
            models.Index(
                fields=["operation_id"],
                condition=models.Q(payment__isnull=True),
                name="delivery_unbooked_operation",
            ),
        ]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} {self.result} ({self.http_status})"


class DeliveryPurge(models.Model):
    """One run of the retention of rejected deliveries: the only way deliveries are deleted
    (webhooks_rejected_deliveries_purge in webhooks/sql/delivery_retention.sql)."""

    purged_at = models.DateTimeField(_("purged at"), db_default=models.functions.Now())
    cutoff = models.DateTimeField(_("cutoff"))
    deleted = models.PositiveIntegerField(_("deleted"))
    database_user = models.CharField(_("database user"), max_length=128)

    class Meta:
        verbose_name = _("delivery purge")
        verbose_name_plural = _("delivery purges")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Purge of {self.deleted} rejected deliveries before {self.cutoff:%Y-%m-%d}"


class BankImitation(models.Model):
    """A simulated bank delivery: the service posts a payment to its own webhook over HTTP."""

    payload = models.JSONField(_("payload"))
    repeats = models.PositiveSmallIntegerField(_("repeats"), default=1)
    signed = models.BooleanField(_("signed"), default=False)
    # One item per HTTP attempt: {"delivery", "attempt", "status", "body", "error", "ms"}.
    attempts = models.JSONField(_("attempts"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bank imitation")
        verbose_name_plural = _("bank imitations")
        ordering = ["-id"]
        permissions = [("run_bankimitation", _("Can send payments through the bank imitation"))]

    def __str__(self) -> str:
        return f"Imitation #{self.pk} of {self.payload.get('operation_id')} x{self.repeats}"
