"""The double-entry ledger.

- An **Account** has a code, a type and a currency. Asset and expense accounts are
  debit-normal; liability, equity and income accounts are credit-normal. The seeded chart has
  `51` (bank clearing, asset) and `76.UNID` (unidentified receipts, liability); each
  organization gets its own liability account `62.<INN>`.
- A **JournalEntry** is one posted business event (a payment, a reversal, a
  reclassification). It has two or more **JournalLine** rows: (account, side, amount). Per
  entry and currency the debits equal the credits.
- Posted entries and lines are append-only. A mistake is corrected by a reversal entry that
  points at the entry it reverses; an unidentified receipt is moved to an organization by a
  reclassification entry that points at the receipt.
- PostgreSQL enforces all of this: CHECK constraints on amounts and sides, a deferred
  constraint trigger that refuses to commit an unbalanced or incomplete entry, a trigger that
  refuses lines beyond an entry's declared count, and triggers that refuse UPDATE and DELETE
  of posted rows.

Balances are never a row that writers update. A statement-level trigger on the lines inserts
one signed **BalanceDelta** per account touched (signed on the account's normal side), in the
posting's transaction, whoever inserts the lines. A balance is
`AccountBalance.balance + SUM(pending deltas)`, read in one statement; a fold job moves
committed deltas into AccountBalance. **BalanceChange** is the log of changes to liability
accounts (what organizations and unidentified receipts are owed), written by the same
trigger.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from djmoney.models.fields import CurrencyField, MoneyField

# Codes of the system accounts in the seeded chart.
BANK_CLEARING_CODE = "51"
UNIDENTIFIED_RECEIPTS_CODE = "76.UNID"
ORGANIZATION_ACCOUNT_PREFIX = "62."

AMOUNT_MAX_DIGITS = 18
BALANCE_MAX_DIGITS = 20


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


def _append_only() -> pgtrigger.Protect:
    return pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


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
        triggers = [
            # An account's identity is fixed once lines may point at it; its name may change.
            pgtrigger.Protect(
                name="identity_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange("code", "type", "currency"),
            ),
            pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def normal_side(self) -> str:
        return Side.DEBIT if self.type in DEBIT_NORMAL_TYPES else Side.CREDIT


# Checks one entry at commit, in one query: the declared number of lines is present, each
# line's currency is its account's, and per currency the debits equal the credits.
_CHECK_ENTRY_SQL = """
    SELECT e.line_count,
           count(l.id),
           coalesce(bool_or(l.amount_currency <> a.currency), false),
           coalesce((SELECT bool_or(t.net <> 0)
                       FROM (SELECT sum(CASE WHEN x.side = 'D' THEN x.amount ELSE -x.amount END)
                                    AS net
                               FROM accounting_journalline x
                              WHERE x.entry_id = e.id
                              GROUP BY x.amount_currency) t), false)
      INTO declared, actual, wrong_currency, unbalanced
      FROM accounting_journalentry e
      LEFT JOIN accounting_journalline l ON l.entry_id = e.id
      LEFT JOIN accounting_account a ON a.id = l.account_id
     WHERE e.id = {entry_id}
     GROUP BY e.id;
    IF declared IS NULL THEN
        RETURN NULL;
    END IF;
    IF actual <> declared THEN
        RAISE EXCEPTION 'journal entry % has % lines, declared %', {entry_id}, actual, declared
            USING ERRCODE = 'check_violation';
    END IF;
    IF wrong_currency THEN
        RAISE EXCEPTION 'journal entry % has a line in a currency other than its account''s',
            {entry_id} USING ERRCODE = 'check_violation';
    END IF;
    IF unbalanced THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: debits differ from credits', {entry_id}
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
"""


# For each statement that inserts lines: refuse lines beyond an entry's declared count (so
# nothing can be added to an entry posted earlier), then insert one balance delta per
# account, signed on the account's normal side, and one balance-change log row per entry and
# liability account.
_LINES_TO_DELTAS_SQL = """
    SELECT n.entry_id, e.line_count, count(l.id)
      INTO over_entry, declared, actual
      FROM (SELECT DISTINCT entry_id FROM new_lines) n
      JOIN accounting_journalentry e ON e.id = n.entry_id
      JOIN accounting_journalline l ON l.entry_id = n.entry_id
     GROUP BY n.entry_id, e.line_count
    HAVING count(l.id) > e.line_count
     LIMIT 1;
    IF over_entry IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % would have % lines, declared %',
            over_entry, actual, declared USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO accounting_balancedelta (account_id, amount)
    SELECT l.account_id,
           sum(CASE WHEN (a.type IN ('asset', 'expense')) = (l.side = 'D')
                    THEN l.amount ELSE -l.amount END)
      FROM new_lines l
      JOIN accounting_account a ON a.id = l.account_id
     GROUP BY l.account_id;
    -- balance_after: the balance as this transaction sees it, this posting included.
    INSERT INTO accounting_balancechange (account_id, entry_id, amount, balance_after, created_at)
    SELECT c.account_id, c.entry_id, c.amount,
           coalesce((SELECT b.balance FROM accounting_accountbalance b
                      WHERE b.account_id = c.account_id), 0)
         + coalesce((SELECT sum(d.amount) FROM accounting_balancedelta d
                      WHERE d.account_id = c.account_id), 0),
           now()
      FROM (SELECT l.account_id, l.entry_id,
                   sum(CASE WHEN l.side = 'C' THEN l.amount ELSE -l.amount END) AS amount
              FROM new_lines l
              JOIN accounting_account a ON a.id = l.account_id
             WHERE a.type = 'liability'
             GROUP BY l.entry_id, l.account_id) c;
    RETURN NULL;
"""


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
        triggers = [
            _append_only(),
            pgtrigger.Trigger(
                name="balanced_at_commit",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                timing=pgtrigger.Deferred,
                declare=[
                    ("declared", "integer"),
                    ("actual", "bigint"),
                    ("wrong_currency", "boolean"),
                    ("unbalanced", "boolean"),
                ],
                func=_CHECK_ENTRY_SQL.format(entry_id="NEW.id"),
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
        triggers = [
            _append_only(),
            # Cached balances follow the journal whatever inserts the lines; lines beyond
            # an entry's declared count are refused. The entry's own deferred trigger checks
            # the complete entry at commit.
            pgtrigger.Trigger(
                name="deltas_and_changes",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="new_lines"),
                declare=[("over_entry", "bigint"), ("declared", "integer"), ("actual", "bigint")],
                func=_LINES_TO_DELTAS_SQL,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.account.code} {self.amount}"

    @property
    def debit(self):
        return self.amount if self.side == Side.DEBIT else None

    @property
    def credit(self):
        return self.amount if self.side == Side.CREDIT else None


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
    # The account's balance as the posting transaction saw it, the posting included.
    balance_after = models.DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)
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
        triggers = [
            pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="only_dispatch_changes",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange(
                    "account", "entry", "amount", "balance_after", "created_at"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+} (entry #{self.entry_id})"
