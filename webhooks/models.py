"""Webhook intake: every delivery is recorded; each operation_id becomes one Payment.

Payments and deliveries are append-only (`webhooks/sql/append_only.sql`); the booking itself
is `webhooks_receive_payment` in `webhooks/sql/receive_payment.sql`. A payment the bank's
statement shows but no webhook announced is booked from the statement
(`webhooks/sql/book_statement_payment.sql`) with no operation_id; the webhook that arrives
for it later gives it its operation_id, the one change a payment row allows.
"""

from django.conf import settings
from django.db import models
from djmoney.models.fields import MoneyField


class PaymentSource(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    STATEMENT = "statement", "Bank statement"


class Payment(models.Model):
    """An incoming bank payment, booked exactly once (operation_id is unique).

    The same payment is recognised across sources by its document key: payer INN,
    document number, document day (in the service's time zone) and amount.
    """

    # NULL only for a payment booked from the bank statement whose webhook has not arrived.
    operation_id = models.UUIDField(unique=True, null=True, blank=True)
    source = models.CharField(
        max_length=16,
        choices=PaymentSource.choices,
        default=PaymentSource.WEBHOOK,
        db_default=PaymentSource.WEBHOOK,
    )
    amount = MoneyField(max_digits=18, decimal_places=2, default_currency=settings.DEFAULT_CURRENCY)
    payer_inn = models.CharField("payer INN", max_length=12)
    document_number = models.CharField(max_length=128)
    document_date = models.DateTimeField()
    # SHA-256 of the canonical payload: a repeat with another hash is a conflict.
    payload_hash = models.CharField(max_length=64)
    entry = models.OneToOneField(
        "accounting.JournalEntry", on_delete=models.PROTECT, related_name="payment"
    )
    received_at = models.DateTimeField(db_default=models.functions.Now())

    class Meta:
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
        return f"{self.document_number} {self.amount} from {self.payer_inn or 'unknown INN'}"


class DeliveryResult(models.TextChoices):
    BOOKED = "booked", "Booked to the organization"
    UNIDENTIFIED = "unidentified", "Booked to unidentified receipts"
    # Also a first delivery for a payment already booked from the bank statement.
    DUPLICATE = "duplicate", "Exact repeat, nothing booked"
    CONFLICT = "conflict", "Repeat with different content, nothing booked"
    REJECTED = "rejected", "Rejected"


class Delivery(models.Model):
    """One HTTP delivery of the bank webhook, whatever its outcome."""

    received_at = models.DateTimeField(db_default=models.functions.Now())
    result = models.CharField(max_length=16, choices=DeliveryResult.choices)
    http_status = models.PositiveSmallIntegerField()
    operation_id = models.UUIDField(null=True, blank=True, db_index=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    # The body as received; for a delivery rejected before its source was authenticated
    # (signature, network, size, type), only its first 2 KiB (body_truncated).
    raw_body = models.TextField(blank=True)
    # SHA-256 and length of the body as received: set for rejected deliveries.
    body_sha256 = models.CharField(max_length=64, blank=True, db_default="")
    body_length = models.PositiveIntegerField(null=True, blank=True)
    body_truncated = models.BooleanField(default=False, db_default=False)
    headers = models.JSONField(default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    errors = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
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
        ]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} {self.result} ({self.http_status})"


class DeliveryPurge(models.Model):
    """One run of the retention of rejected deliveries: the only way deliveries are deleted
    (webhooks_rejected_deliveries_purge in webhooks/sql/delivery_retention.sql)."""

    purged_at = models.DateTimeField(db_default=models.functions.Now())
    cutoff = models.DateTimeField()
    deleted = models.PositiveIntegerField()
    database_user = models.CharField(max_length=128)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Purge of {self.deleted} rejected deliveries before {self.cutoff:%Y-%m-%d}"


class BankImitation(models.Model):
    """A simulated bank delivery: the service posts a payment to its own webhook over HTTP."""

    payload = models.JSONField()
    repeats = models.PositiveSmallIntegerField(default=1)
    signed = models.BooleanField(default=False)
    # One item per HTTP attempt: {"delivery", "attempt", "status", "body", "error", "ms"}.
    attempts = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("run_bankimitation", "Can send payments through the bank imitation")]

    def __str__(self) -> str:
        return f"Imitation #{self.pk} of {self.payload.get('operation_id')} x{self.repeats}"
