"""Reads for the reconciliation report: everything recomputed from the raw journal."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection

from accounting.chart import BANK_CLEARING, UNIDENTIFIED_RECEIPTS
from accounting.models import BalanceChange
from accounting.selectors import (
    account_balance_get,
    account_get_by_code,
    balance_change_oldest_pending,
    balance_changes_pending_count,
    balance_deltas_pending_count,
    ledger_discrepancies,
    period_sums,
    period_trial_balance_get,
    suspense_receipts_unallocated_count,
)
from common.dates import day_bounds
from common.db import BoundedCount
from reconciliation.models import ReconciliationReport
from webhooks.models import DeliveryResult
from webhooks.selectors import deliveries_to_follow_up_counts, payments_posted_totals

# The panel's counts stop here (shown as "10 000+"): each reads at most this many index
# entries, however many millions of rows there are.
ATTENTION_COUNT_LIMIT = 10_000


def _rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def period_trial_balance(*, start: datetime, end: datetime) -> list[dict]:
    """Per account: opening balance, debits and credits within [start, end), closing balance
    (accounting.selectors.period_trial_balance_get, which reads closed days' totals).

    Balances are debit-positive (debits minus credits); their total is zero when the books
    balance.
    """
    return [
        {
            "code": row.code,
            "name": row.name,
            "type": row.type,
            "currency": row.currency,
            "opening": row.opening,
            "debit": row.debit,
            "credit": row.credit,
            "closing": row.closing,
        }
        for row in period_trial_balance_get(start=start, end=end)
    ]


_PERIOD = """
   AND e.posted_at >= coalesce(%(start)s::timestamptz, '-infinity')
   AND e.posted_at < coalesce(%(end)s::timestamptz, 'infinity')
"""


# A period's checks start from the period's entries (by posted_at) and read each one's
# lines and payment by index; as joins, the planner reads all of bank clearing's lines (one
# per payment ever booked) or every payment to meet a day's entries. Without a period the
# joins are the cheaper way to read everything.
_CLEARING_DEBIT_OF_ENTRY = """
    SELECT sum(l.amount) AS debit FROM accounting_journalline l
     WHERE l.entry_id = e.id AND l.account_id = %(clearing)s AND l.side = 'D'
"""


def payments_not_matching_their_entry(*, start=None, end=None) -> list[tuple]:
    """Payments whose entry is not a payment entry debiting bank clearing by their amount
    (those whose entry was posted in [start, end), when given)."""
    params = {"clearing": _clearing_id(), "start": start, "end": end}
    if start is None and end is None:
        return _rows(
            """
            SELECT p.operation_id::text, p.amount, e.kind, d.debit
              FROM webhooks_payment p
              JOIN accounting_journalentry e ON e.id = p.entry_id
              LEFT JOIN (SELECT l.entry_id, sum(l.amount) AS debit
                           FROM accounting_journalline l
                          WHERE l.account_id = %(clearing)s AND l.side = 'D'
                          GROUP BY l.entry_id) d ON d.entry_id = e.id
             WHERE e.kind <> 'payment' OR p.amount IS DISTINCT FROM d.debit
            """,
            params,
        )
    return _rows(
        f"""
        SELECT p.operation_id::text, p.amount, e.kind, d.debit
          FROM accounting_journalentry e
          JOIN webhooks_payment p ON p.entry_id = e.id
          LEFT JOIN LATERAL ({_CLEARING_DEBIT_OF_ENTRY}) d ON true
         WHERE (e.kind <> 'payment' OR p.amount IS DISTINCT FROM d.debit)
           {_PERIOD}
        """,
        params,
    )


def _clearing_id() -> int:
    return account_get_by_code(code=BANK_CLEARING.code).pk


def payment_entries_without_payment(*, start=None, end=None) -> list[tuple]:
    return _rows(
        f"""
        SELECT e.id, e.reference
          FROM accounting_journalentry e
          LEFT JOIN webhooks_payment p ON p.entry_id = e.id
         WHERE e.kind = 'payment' AND p.id IS NULL {_PERIOD}
        """,
        {"start": start, "end": end},
    )


def clearing_and_payments_totals(*, start: datetime | None = None, end: datetime | None = None):
    """(bank clearing debits of payment entries, payments' total), optionally for a period."""
    if start is None:
        clearing_debits = """
            SELECT coalesce(sum(l.amount), 0)
              FROM accounting_journalline l
              JOIN accounting_journalentry e ON e.id = l.entry_id
             WHERE l.account_id = %(clearing)s AND l.side = 'D' AND e.kind = 'payment'
        """
        period = ""
    else:
        period = "AND e.posted_at >= %(start)s AND e.posted_at < %(end)s"
        clearing_debits = f"""
            SELECT coalesce(sum(d.debit), 0)
              FROM accounting_journalentry e
             CROSS JOIN LATERAL ({_CLEARING_DEBIT_OF_ENTRY}) d
             WHERE e.kind = 'payment' {period}
        """
    [(clearing, payments)] = _rows(
        f"""
        SELECT ({clearing_debits}),
            (SELECT coalesce(sum(p.amount), 0)
               FROM webhooks_payment p
               JOIN accounting_journalentry e ON e.id = p.entry_id
              WHERE true {period})
        """,
        {"clearing": _clearing_id(), "start": start, "end": end},
    )
    return Decimal(clearing), Decimal(payments)


def conflicting_deliveries(*, start: datetime, end: datetime) -> list[tuple]:
    return _rows(
        """
        SELECT d.id, d.operation_id::text, d.received_at, d.raw_body
          FROM webhooks_delivery d
         WHERE d.result = 'conflict' AND d.received_at >= %(start)s AND d.received_at < %(end)s
         ORDER BY d.id
        """,
        {"start": start, "end": end},
    )


def books_discrepancies(*, start=None, end=None) -> dict[str, list[tuple]]:
    """Every invariant of the books, re-checked from the raw tables; {} when all hold.

    The ledger's own (accounting.selectors.ledger_discrepancies: entries balanced and
    complete, closed days' totals equal to their lines, cached balances equal to the
    journal, the balance-change log adding up), the trial balance netting to zero, and the
    payments' (exactly one payment entry per payment, debiting bank clearing by its amount;
    no payment entry without a payment; bank clearing's payment debits equal to the
    payments' total). Used by the reconciliation report, the tests' after-each check and the
    benchmark. Without a period, everything is read again; with one (the daily report), the
    checks of entries and payments read the period's, so the cost follows its volume. Call
    it inside one snapshot (REPEATABLE READ) when writers may be running.
    """
    period = {"start": start, "end": end}
    # All time's sums, read once (the closed days' totals and the lines since the last):
    # the trial balance and the cached-balance check both start from them.
    sums = period_sums()
    found = dict(ledger_discrepancies(**period, sums=sums))
    debits = sum((debit for debit, _ in sums.values()), Decimal(0))
    credits = sum((credit for _, credit in sums.values()), Decimal(0))
    if debits != credits:
        found["trial_balance_not_zero"] = [(debits, credits, debits - credits)]
    mismatched = payments_not_matching_their_entry(**period)
    if mismatched:
        found["payment_entry_mismatch"] = mismatched
    orphans = payment_entries_without_payment(**period)
    if orphans:
        found["payment_entry_without_payment"] = orphans
    clearing_total, payments_total = clearing_and_payments_totals(**period)
    if clearing_total != payments_total:
        found["clearing_differs_from_payments"] = [(clearing_total, payments_total)]
    return found


@dataclass(frozen=True)
class AttentionPanel:
    """What needs the accountants' attention, for the admin's home page."""

    day: date
    receipts_today: int
    receipts_today_total: Decimal
    unallocated: BoundedCount
    unallocated_balance: Decimal
    conflicts: BoundedCount
    rejected: BoundedCount
    last_report: ReconciliationReport | None
    oldest_undispatched: BalanceChange | None
    undispatched: BoundedCount
    fold_backlog: BoundedCount


def reconciliation_report_latest() -> ReconciliationReport | None:
    """The report created last (by its primary key)."""
    return ReconciliationReport.objects.order_by("-id").first()


def attention_panel_get(*, day: date, limit: int = ATTENTION_COUNT_LIMIT) -> AttentionPanel:
    """The figures of the admin's home page for `day` (in the service's time zone). Each is
    one indexed query that reads at most `limit` rows or the day's payments: receipts
    through the entries' posting time, counts through bounded index scans, the unallocated
    amount as the balance of unidentified receipts, the oldest undispatched change through
    the pending changes' partial index."""
    start, end = day_bounds(day, day)
    count, total = payments_posted_totals(start=start, end=end)
    follow_up = deliveries_to_follow_up_counts(limit=limit)
    suspense = account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code)
    return AttentionPanel(
        day=day,
        receipts_today=count,
        receipts_today_total=total,
        unallocated=suspense_receipts_unallocated_count(limit=limit),
        unallocated_balance=account_balance_get(account=suspense),
        conflicts=follow_up[DeliveryResult.CONFLICT],
        rejected=follow_up[DeliveryResult.REJECTED],
        last_report=reconciliation_report_latest(),
        oldest_undispatched=balance_change_oldest_pending(),
        undispatched=balance_changes_pending_count(limit=limit),
        fold_backlog=balance_deltas_pending_count(limit=limit),
    )
