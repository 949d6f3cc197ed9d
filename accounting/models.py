"""The double-entry ledger.

- An **Account** has a code, a type and a currency. Asset and expense accounts are
  debit-normal; liability, equity and income accounts are credit-normal. The system accounts
  (`accounting/chart.py`) are `51` bank clearing (asset) and `76.UNID` unidentified receipts
  (liability); each organization gets its own liability account `62.<INN>`.
- A **JournalEntry** is one posted business event (a payment, a reversal, a
  reclassification). It has two or more **JournalLine** rows: (account, side, amount). Per
  entry and currency the debits equal the credits.
- Posted entries and lines are append-only. A mistake is corrected by a reversal entry that
  points at the entry it reverses; an unidentified receipt is moved to an organization by a
  reclassification entry that points at the receipt.
- PostgreSQL enforces all of this, whatever SQL is sent: CHECK constraints on these models,
  and the triggers in `accounting/sql/`: `entry_checks.sql` refuses to commit an unbalanced
  or incomplete entry, `lines_to_deltas.sql` refuses lines beyond an entry's declared count,
  and `append_only.sql` refuses UPDATE and DELETE of posted rows.

Balances are never a row that writers update. For every statement that inserts lines, the
trigger of `lines_to_deltas.sql` inserts one signed **BalanceDelta** per account touched
(signed on the account's normal side), in the posting's transaction. A balance is
`AccountBalance.balance + SUM(pending deltas)` (`accounting_account_balance()` in
`balances.sql`), read in one statement; a fold job moves committed deltas into
AccountBalance. **BalanceChange** is the log of changes to liability accounts (what
organizations and unidentified receipts are owed), written by the same trigger.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import CurrencyField, MoneyField

# A line or payment holds up to 16 integer digits; a balance up to 36, so that the sum of
# every payment the service can accept in its lifetime fits (docs/architecture.md, "Bounds").
AMOUNT_MAX_DIGITS = 18
BALANCE_MAX_DIGITS = 38


class AccountType(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


DEBIT_NORMAL_TYPES = (AccountType.ASSET, AccountType.EXPENSE)


class Side(models.TextChoices):
    DEBIT = "D", _("Debit")
    CREDIT = "C", _("Credit")


class EntryKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REVERSAL = "reversal", _("Reversal")
    RECLASSIFICATION = "reclassification", _("Reclassification")
    MANUAL = "manual", _("Manual")


class Account(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=16, choices=AccountType.choices)
    currency = CurrencyField(_("currency"), default=settings.DEFAULT_CURRENCY)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=AccountType.values), name="account_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def normal_side(self) -> str:
        return Side.DEBIT if self.type in DEBIT_NORMAL_TYPES else Side.CREDIT


class JournalEntry(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    # The business reference: a payment's operation_id, a document number.
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    # The counterparty's identifier (an INN) when the entry concerns one.
    party = models.CharField(_("party"), max_length=32, blank=True)
    line_count = models.PositiveSmallIntegerField(_("line count"))
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    reclassifies = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reclassified_by",
        verbose_name=_("reclassifies"),
    )
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("created by"),
    )
    posted_at = models.DateTimeField(_("posted at"), db_default=models.functions.Now())

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-id"]
        # Plain btrees: each index is written by every booking, so only the ones reads use.
        indexes = [
            # Bookings of payments are found through the payment's unique operation_id (and
            # their corrections through reverses/reclassifies): only manual entries index
            # their reference, so a booking writes no second index of the bank's random ids.
            models.Index(
                fields=["reference"],
                condition=models.Q(kind="manual"),
                name="entry_manual_reference",
            ),
            # A party's entries, and its latest payment read backwards (the organizations'
            # "last payment", one index probe each).
            models.Index(fields=["party", "posted_at"], name="entry_party_posted"),
            # A day's entries: the day's close, reports and statements of a period.
            models.Index(fields=["posted_at"], name="entry_posted_at"),
        ]
        permissions = [
            ("reverse_journalentry", _("Can reverse a journal entry")),
            ("reclassify_journalentry", _("Can reclassify an unidentified receipt")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(line_count__gte=2), name="entry_has_two_lines"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="entry_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.memo or self.get_kind_display()}"


class JournalLine(models.Model):
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", verbose_name=_("entry")
    )
    # Indexed by (account, id) below, which also serves lookups by account alone.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,
        verbose_name=_("account"),
    )
    side = models.CharField(_("side"), max_length=1, choices=Side.choices)
    amount = MoneyField(
        _("amount"),
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=2,
        default_currency=settings.DEFAULT_CURRENCY,
    )

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"], name="line_account_id")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="line_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(side__in=Side.values), name="line_side_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.account.code} {self.amount}"


class AccountBalance(models.Model):
    """The consolidated balance of an account, on its normal side; written only by the fold."""

    account = models.OneToOneField(
        Account,
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="cached_balance",
        verbose_name=_("account"),
    )
    balance = models.DecimalField(
        _("balance"), max_digits=BALANCE_MAX_DIGITS, decimal_places=2, default=0
    )
    updated_at = models.DateTimeField(_("updated at"), db_default=models.functions.Now())

    class Meta:
        verbose_name = _("account balance")
        verbose_name_plural = _("account balances")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class BalanceDelta(models.Model):
    """A signed change to an account's balance, not yet folded into AccountBalance."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    amount = models.DecimalField(_("amount"), max_digits=BALANCE_MAX_DIGITS, decimal_places=2)

    class Meta:
        verbose_name = _("balance delta")
        verbose_name_plural = _("balance deltas")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount:+}"


class BalanceChange(models.Model):
    """The balance-change log: one row per liability account an entry changes."""

    # Not indexed: the log is read by its pending rows (partial index below), not by these.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("account"),
    )
    entry = models.ForeignKey(
        JournalEntry,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("entry"),
    )
    amount = models.DecimalField(_("amount"), max_digits=BALANCE_MAX_DIGITS, decimal_places=2)
    # The account's balance after this change in the log's order: set when the change is
    # dispatched, as the running balance of the account's logged changes.
    balance_after = models.DecimalField(
        _("balance after"), max_digits=BALANCE_MAX_DIGITS, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), db_default=models.functions.Now())
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("balance change")
        verbose_name_plural = _("balance changes")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(dispatched_at__isnull=True),
                name="balancechange_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+} (entry #{self.entry_id})"


class LoggedBalance(models.Model):
    """An account's balance as of its last logged balance change: where the next logged
    change's running balance starts. Written only by the balance-change dispatch."""

    account = models.OneToOneField(
        Account,
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account"),
    )
    balance = models.DecimalField(_("balance"), max_digits=BALANCE_MAX_DIGITS, decimal_places=2)

    class Meta:
        verbose_name = _("logged balance")
        verbose_name_plural = _("logged balances")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class ClosedDay(models.Model):
    """A day of the journal that can no longer change: no entry posted in [starts_at,
    ends_at) may commit once the day is closed (accounting/sql/journal_days.sql), so its
    totals per account (AccountDayTotal) are final. Days close in order, an hour after they
    end; reports and statements then read a day's totals instead of its lines."""

    day = models.DateField(_("day"), primary_key=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), unique=True)
    closed_at = models.DateTimeField(_("closed at"), db_default=models.functions.Now())

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="closedday_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} (closed {self.closed_at:%Y-%m-%d %H:%M})"


class AccountDayTotal(models.Model):
    """One account's debits, credits and number of lines on a closed day: computed from the
    lines once, when the day closes; never changed."""

    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("account"),
    )
    day = models.ForeignKey(
        ClosedDay,
        on_delete=models.PROTECT,
        related_name="totals",
        db_index=False,
        verbose_name=_("day"),
    )
    debit = models.DecimalField(_("debit"), max_digits=BALANCE_MAX_DIGITS, decimal_places=2)
    credit = models.DecimalField(_("credit"), max_digits=BALANCE_MAX_DIGITS, decimal_places=2)
    lines = models.PositiveIntegerField(_("lines"))

    class Meta:
        verbose_name = _("account day total")
        verbose_name_plural = _("account day totals")
        constraints = [
            # Also the index of an account's days, in order.
            models.UniqueConstraint(fields=["account", "day"], name="accountdaytotal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day_id}: Dr {self.debit} Cr {self.credit}"
