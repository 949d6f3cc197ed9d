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
from djmoney.models.fields import CurrencyField, MoneyField

# A line or payment holds up to 16 integer digits; a balance up to 36, so that the sum of
# every payment the service can accept in its lifetime fits (docs/architecture.md, "Bounds").
AMOUNT_MAX_DIGITS = 18
BALANCE_MAX_DIGITS = 38


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


DEBIT_NORMAL_TYPES = (AccountType.ASSET, AccountType.EXPENSE)


class Side(models.TextChoices):
    DEBIT = "D", "Debit"
    CREDIT = "C", "Credit"


class EntryKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REVERSAL = "reversal", "Reversal"
    RECLASSIFICATION = "reclassification", "Reclassification"
    MANUAL = "manual", "Manual"


class Account(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=AccountType.choices)
    currency = CurrencyField(default=settings.DEFAULT_CURRENCY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    memo = models.CharField(max_length=255, blank=True)
    # The business reference: a payment's operation_id, a document number.
    reference = models.CharField(max_length=128, blank=True)
    # The counterparty's identifier (an INN) when the entry concerns one.
    party = models.CharField(max_length=32, blank=True)
    line_count = models.PositiveSmallIntegerField()
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    reclassifies = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reclassified_by"
    )
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    posted_at = models.DateTimeField(db_default=models.functions.Now())

    class Meta:
        verbose_name_plural = "journal entries"
        ordering = ["-id"]
        # Plain btrees: each index is written by every booking, so only the ones reads use.
        indexes = [
            models.Index(fields=["reference"], name="entry_reference"),
            models.Index(fields=["party"], name="entry_party"),
            # A day's entries: the day's close, reports and statements of a period.
            models.Index(fields=["posted_at"], name="entry_posted_at"),
        ]
        permissions = [
            ("reverse_journalentry", "Can reverse a journal entry"),
            ("reclassify_journalentry", "Can reclassify an unidentified receipt"),
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
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    # Indexed by (account, id) below, which also serves lookups by account alone.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    side = models.CharField(max_length=1, choices=Side.choices)
    amount = MoneyField(
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=2,
        default_currency=settings.DEFAULT_CURRENCY,
    )

    class Meta:
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
        Account, primary_key=True, on_delete=models.PROTECT, related_name="cached_balance"
    )
    balance = models.DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2, default=0)
    updated_at = models.DateTimeField(db_default=models.functions.Now())

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class BalanceDelta(models.Model):
    """A signed change to an account's balance, not yet folded into AccountBalance."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount:+}"


class BalanceChange(models.Model):
    """The balance-change log: one row per liability account an entry changes."""

    # Not indexed: the log is read by its pending rows (partial index below), not by these.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    amount = models.DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)
    # The account's balance after this change in the log's order: set when the change is
    # dispatched, as the running balance of the account's logged changes.
    balance_after = models.DecimalField(
        max_digits=BALANCE_MAX_DIGITS, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(db_default=models.functions.Now())
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        Account, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    balance = models.DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class ClosedDay(models.Model):
    """A day of the journal that can no longer change: no entry posted in [starts_at,
    ends_at) may commit once the day is closed (accounting/sql/journal_days.sql), so its
    totals per account (AccountDayTotal) are final. Days close in order, an hour after they
    end; reports and statements then read a day's totals instead of its lines."""

    day = models.DateField(primary_key=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(unique=True)
    closed_at = models.DateTimeField(db_default=models.functions.Now())

    class Meta:
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

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.ForeignKey(
        ClosedDay, on_delete=models.PROTECT, related_name="totals", db_index=False
    )
    debit = models.DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)
    credit = models.DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)
    lines = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # Also the index of an account's days, in order.
            models.UniqueConstraint(fields=["account", "day"], name="accountdaytotal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day_id}: Dr {self.debit} Cr {self.credit}"
