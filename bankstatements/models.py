"""The bank's own statement of the service's account, and its lines matched to payments.

- A **BankStatement** is one imported file (1CClientBankExchange): its period, balances and
  totals, the original file in the default storage and its SHA-256 (unique: the same file is
  imported once). A statement for days an earlier one covers is a new **version**; for each
  day the latest statement covering it is the one that counts (bankstatements.selectors).
- A **StatementLine** is one document of the statement. Incoming ones (to the service's
  account, with a receipt date) are matched to payments on the document key (payer INN,
  document number, document date, amount): *matched*, *statement only* (no webhook told of
  it; booked by an accountant, which links the line to the payment it created), or
  *ambiguous* (several candidates). Outgoing documents are kept and listed, never booked.
  Payments of a covered day that no line matches are *webhook only*; they are found by a
  query, not stored.

Statement rows never change after import; a line's status, payment and booking change only
through bankstatements.services.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from webhooks.services import DocumentKey

AMOUNT = {"max_digits": 18, "decimal_places": 2}
BALANCE = {"max_digits": 20, "decimal_places": 2}


class StatementSource(models.TextChoices):
    ADMIN = "admin", _("Admin upload")
    COMMAND = "command", _("Management command")
    API = "api", _("API")


class BankStatement(models.Model):
    account_number = models.CharField(_("account number"), max_length=20)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    format_version = models.CharField(_("format version"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=16)
    sender = models.CharField(_("sender"), max_length=255, blank=True)
    created_on = models.DateField(_("created on"), null=True, blank=True)
    # СекцияРасчСчет: the first section's opening balance, the last one's closing balance,
    # the sums of the sections' totals; every section as it was in `sections`.
    opening_balance = models.DecimalField(_("opening balance"), **BALANCE)
    closing_balance = models.DecimalField(_("closing balance"), **BALANCE)
    total_received = models.DecimalField(_("total received"), **BALANCE)
    total_paid = models.DecimalField(_("total paid"), **BALANCE)
    sections = models.JSONField(_("sections"), default=list)
    file = models.FileField(_("file"), upload_to="bank-statements/%Y/%m/", max_length=255)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    size = models.PositiveIntegerField(_("size"))
    # 1, or one more than the highest version of the earlier statements it overlaps.
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    supersedes = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    source = models.CharField(_("source"), max_length=16, choices=StatementSource.choices)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-id"]
        indexes = [models.Index(fields=["period_start", "period_end"], name="statement_period")]
        permissions = [("import_bankstatement", _("Can import a bank statement"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="statement_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        period = f"{self.period_start:%d.%m.%Y}"
        if self.period_end != self.period_start:
            period += f"–{self.period_end:%d.%m.%Y}"
        return gettext("Statement #%(id)s %(period)s v%(version)s") % {
            "id": self.pk,
            "period": period,
            "version": self.version,
        }


class LineDirection(models.TextChoices):
    INCOMING = "incoming", _("Incoming")
    # Everything that is not a receipt on the service's account: kept, listed, not booked.
    OUTGOING = "outgoing", _("Outgoing")


class LineStatus(models.TextChoices):
    MATCHED = "matched", _("Matched")
    STATEMENT_ONLY = "statement_only", _("Statement only")
    AMBIGUOUS = "ambiguous", _("Ambiguous")
    OUTGOING = "outgoing", _("Outgoing, not booked")


class StatementLine(models.Model):
    statement = models.ForeignKey(
        BankStatement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("statement")
    )
    position = models.PositiveIntegerField(
        _("position")
    )  # the document's place in the file, from 1
    file_line = models.PositiveIntegerField(_("file line"))  # the line its СекцияДокумент starts on
    document_type = models.CharField(_("document type"), max_length=128)
    number = models.CharField(_("number"), max_length=128)
    document_date = models.DateField(_("document date"))
    amount = models.DecimalField(_("amount"), **AMOUNT)
    payer_inn = models.CharField(_("payer INN"), max_length=12, blank=True)
    payer_account = models.CharField(_("payer account"), max_length=34, blank=True)
    payer_name = models.CharField(_("payer name"), max_length=512, blank=True)
    recipient_account = models.CharField(_("recipient account"), max_length=34, blank=True)
    recipient_inn = models.CharField(_("recipient INN"), max_length=12, blank=True)
    recipient_name = models.CharField(_("recipient name"), max_length=512, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)  # ДатаПоступило
    written_off_on = models.DateField(_("written off on"), null=True, blank=True)  # ДатаСписано
    purpose = models.TextField(_("purpose"), blank=True)
    direction = models.CharField(_("direction"), max_length=16, choices=LineDirection.choices)
    status = models.CharField(_("status"), max_length=16, choices=LineStatus.choices)
    # The matched payment, or the payment booked from this line.
    payment = models.ForeignKey(
        "webhooks.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statement_lines",
        verbose_name=_("payment"),
    )
    # Ids of the payments an ambiguous line could be.
    candidates = models.JSONField(_("candidates"), default=list, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("booked by"),
    )
    booked_at = models.DateTimeField(_("booked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement_id", "position"]
        indexes = [
            models.Index(fields=["payer_inn", "number"], name="statementline_document"),
            models.Index(fields=["received_on"], name="statementline_received_on"),
        ]
        permissions = [
            ("book_statementline", _("Can book statement lines that no webhook announced"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "position"], name="statementline_position_unique"
            ),
            # Within one statement a payment is the counterpart of at most one line.
            models.UniqueConstraint(
                fields=["statement", "payment"],
                condition=models.Q(payment__isnull=False),
                name="statementline_payment_once",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="statementline_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=LineStatus.values), name="statementline_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=LineStatus.MATCHED, payment__isnull=False)
                | models.Q(status=LineStatus.STATEMENT_ONLY)
                | models.Q(
                    status__in=[LineStatus.AMBIGUOUS, LineStatus.OUTGOING], payment__isnull=True
                ),
                name="statementline_payment_fits_status",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.number} of {self.document_date:%d.%m.%Y} {self.amount}"

    @property
    def booked(self) -> bool:
        """Booked from the statement: a statement-only line with the payment it created."""
        return self.status == LineStatus.STATEMENT_ONLY and self.payment_id is not None

    @property
    def day(self):
        """The day the line belongs to: received, written off, or its document's date."""
        return self.received_on or self.written_off_on or self.document_date

    def document_key(self) -> DocumentKey:
        return DocumentKey(self.payer_inn, self.number, self.document_date, self.amount)
