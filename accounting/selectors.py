"""Reads of the ledger. Balances are exact: the cached sum plus pending deltas, one statement."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounting.models import (
    UNIDENTIFIED_RECEIPTS_CODE,
    Account,
    AccountBalance,
    BalanceDelta,
    EntryKind,
    JournalEntry,
    Side,
)

_MONEY = DecimalField(max_digits=20, decimal_places=2)
_ZERO = Value(Decimal("0.00"), output_field=_MONEY)


def account_get_by_code(*, code: str) -> Account:
    return Account.objects.get(code=code)


def account_balance_expression(account_ref: str = "pk"):
    """An ORM expression for the exact balance of the account at `account_ref` (an outer field).

    Annotate a queryset with it to read many balances in the same statement as the rows.
    """
    cached = AccountBalance.objects.filter(account_id=OuterRef(account_ref)).values("balance")
    pending = (
        BalanceDelta.objects.filter(account_id=OuterRef(account_ref))
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(cached, output_field=_MONEY), _ZERO) + Coalesce(
        Subquery(pending, output_field=_MONEY), _ZERO
    )


def account_balance_get(*, account: Account) -> Decimal:
    """The exact balance of `account` on its normal side."""
    return (
        Account.objects.filter(pk=account.pk)
        .annotate(balance=account_balance_expression())
        .values_list("balance", flat=True)
        .get()
    )


def suspense_receipts_unallocated(*, party: str | None = None):
    """Receipts credited to unidentified receipts and neither reversed nor reclassified."""
    entries = JournalEntry.objects.filter(
        lines__account__code=UNIDENTIFIED_RECEIPTS_CODE,
        lines__side=Side.CREDIT,
        reversed_by__isnull=True,
        reclassified_by__isnull=True,
    ).exclude(kind__in=[EntryKind.REVERSAL, EntryKind.RECLASSIFICATION])
    if party is not None:
        entries = entries.filter(party=party)
    return entries.distinct().order_by("id")


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    type: str
    currency: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit-positive balance: debits minus credits."""
        return self.debit - self.credit


def trial_balance_get() -> list[TrialBalanceRow]:
    """Every account's total debits and credits, recomputed from the journal lines."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, a.name, a.type, a.currency,
                   coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0)
              FROM accounting_account a
              LEFT JOIN accounting_journalline l ON l.account_id = a.id
             GROUP BY a.id
             ORDER BY a.code
            """
        )
        return [TrialBalanceRow(*row) for row in cursor.fetchall()]


# Each query returns the rows that break one invariant; all must be empty.
_LEDGER_CHECKS = {
    "unbalanced_entries": """
        SELECT e.id, l.amount_currency,
               sum(CASE WHEN l.side = 'D' THEN l.amount ELSE -l.amount END) AS difference
          FROM accounting_journalentry e
          JOIN accounting_journalline l ON l.entry_id = e.id
         GROUP BY e.id, l.amount_currency
        HAVING sum(CASE WHEN l.side = 'D' THEN l.amount ELSE -l.amount END) <> 0
    """,
    "entries_with_missing_lines": """
        SELECT e.id, e.line_count, count(l.id)
          FROM accounting_journalentry e
          LEFT JOIN accounting_journalline l ON l.entry_id = e.id
         GROUP BY e.id
        HAVING count(l.id) <> e.line_count OR count(l.id) < 2
    """,
    "cached_balance_drift": """
        WITH recomputed AS (
            SELECT a.id, a.code,
                   coalesce(sum(CASE WHEN (a.type IN ('asset', 'expense')) = (l.side = 'D')
                                     THEN l.amount ELSE -l.amount END), 0) AS from_lines
              FROM accounting_account a
              LEFT JOIN accounting_journalline l ON l.account_id = a.id
             GROUP BY a.id
        ), cached AS (
            SELECT a.id,
                   coalesce((SELECT balance FROM accounting_accountbalance b
                              WHERE b.account_id = a.id), 0)
                 + coalesce((SELECT sum(amount) FROM accounting_balancedelta d
                              WHERE d.account_id = a.id), 0) AS cached
              FROM accounting_account a
        )
        SELECT r.code, c.cached, r.from_lines
          FROM recomputed r JOIN cached c ON c.id = r.id
         WHERE c.cached <> r.from_lines
    """,
}


def ledger_discrepancies() -> dict[str, list[tuple]]:
    """Re-check the ledger's invariants from the raw journal; each check is one statement.

    Returns {check name: offending rows}, only for checks that fail; {} means the books are
    right: every entry balanced per currency with all its lines, and every cached balance
    equal to the sum recomputed from the lines.
    """
    found = {}
    with connection.cursor() as cursor:
        for name, sql in _LEDGER_CHECKS.items():
            cursor.execute(sql)
            rows = cursor.fetchall()
            if rows:
                found[name] = rows
    return found
