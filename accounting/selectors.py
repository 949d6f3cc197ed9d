"""Reads of the ledger. Balances are exact: the cached sum plus pending deltas, one statement."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, F, Func, Max, OuterRef, Subquery

from accounting.chart import UNIDENTIFIED_RECEIPTS
from accounting.exceptions import (
    AlreadyReversed,
    LedgerError,
    NotReclassifiable,
    NotReversible,
)
from accounting.models import (
    BALANCE_MAX_DIGITS,
    Account,
    AccountType,
    EntryKind,
    JournalEntry,
    Side,
)

_MONEY = DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)


def account_get_by_code(*, code: str) -> Account:
    return Account.objects.get(code=code)


def account_balance_expression(account_ref: str = "pk") -> Func:
    """An ORM expression for the exact balance of the account whose id is the field
    `account_ref`: `accounting_account_balance()` (accounting/sql/balances.sql), the cached
    sum plus pending deltas. Annotate a queryset with it to read many balances in the same
    statement, so the same snapshot, as the rows."""
    return Func(F(account_ref), function="accounting_account_balance", output_field=_MONEY)


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
        lines__account__code=UNIDENTIFIED_RECEIPTS.code,
        lines__side=Side.CREDIT,
        reversed_by__isnull=True,
        reclassified_by__isnull=True,
    ).exclude(kind__in=[EntryKind.REVERSAL, EntryKind.RECLASSIFICATION])
    if party is not None:
        entries = entries.filter(party=party)
    return entries.distinct().order_by("id")


def party_last_posted_at_expression(*, party_ref: str, kind: str):
    """An ORM expression for when the latest entry of `kind` for the party (an INN) in the
    outer field `party_ref` was posted; None when there is none."""
    return Subquery(
        JournalEntry.objects.filter(party=OuterRef(party_ref), kind=kind)
        .values("party")
        .annotate(at=Max("posted_at"))
        .values("at")
    )


@dataclass(frozen=True)
class Verdict:
    """Whether a correction may be posted; when not, the refusal the service raises."""

    refusal: LedgerError | None = None

    def __bool__(self) -> bool:
        return self.refusal is None


def journal_entry_reversible(*, entry: JournalEntry) -> Verdict:
    """Whether `entry` may be reversed: not itself a reversal, not reversed already, and
    not reclassified (the reclassification is reversed first)."""
    if entry.kind == EntryKind.REVERSAL:
        return Verdict(NotReversible(f"Entry #{entry.pk} is itself a reversal."))
    if JournalEntry.objects.filter(reverses=entry).exists():
        return Verdict(AlreadyReversed(f"Entry #{entry.pk} is already reversed."))
    if JournalEntry.objects.filter(reclassifies=entry).exists():
        return Verdict(
            NotReversible(
                f"Entry #{entry.pk} was reclassified; reverse the reclassification first."
            )
        )
    return Verdict()


def suspense_credit_of(*, entry: JournalEntry) -> Decimal:
    """What `entry` credited to unidentified receipts (zero when nothing)."""
    return sum(
        (
            line.amount.amount
            for line in entry.lines.all()
            if line.account.code == UNIDENTIFIED_RECEIPTS.code and line.side == Side.CREDIT
        ),
        Decimal(0),
    )


def journal_entry_reclassifiable(*, entry: JournalEntry) -> Verdict:
    """Whether `entry` is an unidentified receipt that may still be moved to an
    organization: it credits unidentified receipts and is neither reversed nor
    reclassified."""
    if entry.kind in (EntryKind.REVERSAL, EntryKind.RECLASSIFICATION) or not suspense_credit_of(
        entry=entry
    ):
        return Verdict(NotReclassifiable(f"Entry #{entry.pk} credits no unidentified receipt."))
    if JournalEntry.objects.filter(reverses=entry).exists():
        return Verdict(NotReclassifiable(f"Entry #{entry.pk} was reversed."))
    if JournalEntry.objects.filter(reclassifies=entry).exists():
        return Verdict(NotReclassifiable(f"Entry #{entry.pk} is already reclassified."))
    return Verdict()


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
                   coalesce(sum(accounting_normal_amount(a.type, l.side, l.amount)), 0)
                       AS from_lines
              FROM accounting_account a
              LEFT JOIN accounting_journalline l ON l.account_id = a.id
             GROUP BY a.id
        ), cached AS (
            SELECT a.id, accounting_account_balance(a.id) AS cached FROM accounting_account a
        )
        SELECT r.code, c.cached, r.from_lines
          FROM recomputed r JOIN cached c ON c.id = r.id
         WHERE c.cached <> r.from_lines
    """,
    # The balance-change log covers every change of a liability account: where the log
    # stands plus the changes not yet logged is the account's balance.
    "balance_change_log_drift": """
        SELECT a.code, coalesce(g.balance, 0) + coalesce(p.pending, 0) AS logged,
               accounting_account_balance(a.id) AS balance
          FROM accounting_account a
          LEFT JOIN accounting_loggedbalance g ON g.account_id = a.id
          LEFT JOIN (SELECT account_id, sum(amount) AS pending FROM accounting_balancechange
                      WHERE dispatched_at IS NULL GROUP BY account_id) p ON p.account_id = a.id
         WHERE a.type = %(liability)s
           AND coalesce(g.balance, 0) + coalesce(p.pending, 0) <> accounting_account_balance(a.id)
    """,
}


def ledger_discrepancies() -> dict[str, list[tuple]]:
    """Re-check the ledger's invariants from the raw journal; each check is one statement.

    Returns {check name: offending rows}, only for checks that fail; {} means the books are
    right: every entry balanced per currency with all its lines, every cached balance equal
    to the sum recomputed from the lines, and the balance-change log adding up to the
    balance of every liability account.
    """
    found = {}
    with connection.cursor() as cursor:
        for name, sql in _LEDGER_CHECKS.items():
            cursor.execute(sql, {"liability": AccountType.LIABILITY.value})
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
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH lines AS (
                SELECT e.id AS entry_id, e.posted_at, e.kind, e.memo, e.reference, l.id AS line_id,
                       CASE WHEN l.side = 'D' THEN l.amount ELSE 0 END AS debit,
                       CASE WHEN l.side = 'C' THEN l.amount ELSE 0 END AS credit,
                       accounting_normal_amount(a.type, l.side, l.amount) AS signed
                  FROM accounting_journalline l
                  JOIN accounting_journalentry e ON e.id = l.entry_id
                  JOIN accounting_account a ON a.id = l.account_id
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
