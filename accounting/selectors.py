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


def trial_balance_get(*, until=None) -> list[TrialBalanceRow]:
    """Every account's total debits and credits, recomputed from the journal lines; only
    entries posted before `until` when it is given."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, a.name, a.type, a.currency,
                   coalesce(sum(l.amount) FILTER (WHERE l.side = 'D'), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.side = 'C'), 0)
              FROM accounting_account a
              LEFT JOIN (accounting_journalline l
                         JOIN accounting_journalentry e
                           ON e.id = l.entry_id
                          AND (%(until)s::timestamptz IS NULL OR e.posted_at < %(until)s))
                ON l.account_id = a.id
             GROUP BY a.id
             ORDER BY a.code
            """,
            {"until": until},
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


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    posted_at: object
    kind: str
    memo: str
    reference: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


@dataclass(frozen=True)
class Statement:
    account: Account
    start: object
    end: object
    opening: Decimal
    closing: Decimal
    lines: list[StatementLine]
    total_lines: int


def account_statement_get(
    *, account: Account, start=None, end=None, offset: int = 0, limit: int | None = None
) -> Statement:
    """Opening balance, lines with running balance, and closing balance of `account` for
    entries posted in [start, end) (either bound optional), on the account's normal side.

    Read in one statement, so opening, lines and closing agree. `offset`/`limit` page the
    lines; the running balance of each line still counts every line before it.
    """
    sign = "1" if account.normal_side == Side.DEBIT else "-1"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH lines AS (
                SELECT e.id AS entry_id, e.posted_at, e.kind, e.memo, e.reference, l.id AS line_id,
                       CASE WHEN l.side = 'D' THEN l.amount ELSE 0 END AS debit,
                       CASE WHEN l.side = 'C' THEN l.amount ELSE 0 END AS credit,
                       {sign} * CASE WHEN l.side = 'D' THEN l.amount ELSE -l.amount END AS signed
                  FROM accounting_journalline l
                  JOIN accounting_journalentry e ON e.id = l.entry_id
                 WHERE l.account_id = %(account)s
                   AND (%(end)s::timestamptz IS NULL OR e.posted_at < %(end)s)
            ), opening AS (
                SELECT coalesce(sum(signed), 0) AS amount FROM lines
                 WHERE %(start)s::timestamptz IS NOT NULL AND posted_at < %(start)s
            ), period AS (
                SELECT lines.*,
                       (SELECT amount FROM opening)
                       + sum(signed) OVER (ORDER BY posted_at, line_id) AS balance,
                       count(*) OVER () AS total
                  FROM lines
                 WHERE %(start)s::timestamptz IS NULL OR posted_at >= %(start)s
            )
            SELECT (SELECT amount FROM opening),
                   (SELECT coalesce(sum(signed), 0) FROM lines),
                   entry_id, posted_at, kind, memo, reference, debit, credit, balance, total
              FROM (SELECT 1) one
              LEFT JOIN LATERAL (
                    SELECT * FROM period ORDER BY posted_at, line_id
                    OFFSET %(offset)s LIMIT %(limit)s) p ON true
            """,
            {"account": account.pk, "start": start, "end": end, "offset": offset, "limit": limit},
        )
        rows = cursor.fetchall()
    opening, closing = rows[0][0], rows[0][1]
    lines = [StatementLine(*row[2:10]) for row in rows if row[2] is not None]
    total = rows[0][10] or 0 if lines else _count_statement_lines(account, start, end)
    return Statement(account, start, end, opening, closing, lines, total)


def _count_statement_lines(account: Account, start, end) -> int:
    lines = account.lines.all()
    if start is not None:
        lines = lines.filter(entry__posted_at__gte=start)
    if end is not None:
        lines = lines.filter(entry__posted_at__lt=end)
    return lines.count()
