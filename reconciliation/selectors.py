"""Reads for the reconciliation report: everything recomputed from the raw journal."""

from datetime import datetime
from decimal import Decimal

from django.db import connection

from accounting.chart import BANK_CLEARING
from accounting.selectors import ledger_discrepancies, trial_balance_get


def _rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def period_trial_balance(*, start: datetime, end: datetime) -> list[dict]:
    """Per account: opening balance, debits and credits within [start, end), closing balance.

    Balances are debit-positive (debits minus credits); their total is zero when the books
    balance.
    """
    rows = _rows(
        """
        SELECT a.code, a.name, a.type, a.currency,
               coalesce(sum(CASE WHEN l.side = 'D' THEN l.amount ELSE -l.amount END)
                        FILTER (WHERE e.posted_at < %(start)s), 0),
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'D' AND e.posted_at >= %(start)s
                                              AND e.posted_at < %(end)s), 0),
               coalesce(sum(l.amount) FILTER (WHERE l.side = 'C' AND e.posted_at >= %(start)s
                                              AND e.posted_at < %(end)s), 0)
          FROM accounting_account a
          LEFT JOIN accounting_journalline l ON l.account_id = a.id
          LEFT JOIN accounting_journalentry e ON e.id = l.entry_id AND e.posted_at < %(end)s
         WHERE l.id IS NULL OR e.id IS NOT NULL
         GROUP BY a.id
         ORDER BY a.code
        """,
        {"start": start, "end": end},
    )
    return [
        {
            "code": code,
            "name": name,
            "type": type_,
            "currency": currency,
            "opening": opening,
            "debit": debit,
            "credit": credit,
            "closing": opening + debit - credit,
        }
        for code, name, type_, currency, opening, debit, credit in rows
    ]


def payments_not_matching_their_entry() -> list[tuple]:
    """Payments whose entry is not a payment entry debiting bank clearing by their amount."""
    return _rows(
        """
        SELECT p.operation_id::text, p.amount, e.kind,
               (SELECT sum(l.amount) FROM accounting_journalline l
                  JOIN accounting_account a ON a.id = l.account_id
                 WHERE l.entry_id = e.id AND a.code = %(clearing)s AND l.side = 'D')
          FROM webhooks_payment p
          JOIN accounting_journalentry e ON e.id = p.entry_id
         WHERE e.kind <> 'payment'
            OR p.amount IS DISTINCT FROM (
                SELECT sum(l.amount) FROM accounting_journalline l
                  JOIN accounting_account a ON a.id = l.account_id
                 WHERE l.entry_id = e.id AND a.code = %(clearing)s AND l.side = 'D')
        """,
        {"clearing": BANK_CLEARING.code},
    )


def payment_entries_without_payment() -> list[tuple]:
    return _rows(
        """
        SELECT e.id, e.reference
          FROM accounting_journalentry e
          LEFT JOIN webhooks_payment p ON p.entry_id = e.id
         WHERE e.kind = 'payment' AND p.id IS NULL
        """
    )


def clearing_and_payments_totals(*, start: datetime | None = None, end: datetime | None = None):
    """(bank clearing debits of payment entries, payments' total), optionally for a period."""
    period = "AND e.posted_at >= %(start)s AND e.posted_at < %(end)s" if start else ""
    [(clearing, payments)] = _rows(
        f"""
        SELECT
            (SELECT coalesce(sum(l.amount), 0)
               FROM accounting_journalline l
               JOIN accounting_account a ON a.id = l.account_id
               JOIN accounting_journalentry e ON e.id = l.entry_id
              WHERE a.code = %(clearing)s AND l.side = 'D' AND e.kind = 'payment' {period}),
            (SELECT coalesce(sum(p.amount), 0)
               FROM webhooks_payment p
               JOIN accounting_journalentry e ON e.id = p.entry_id
              WHERE true {period})
        """,
        {"clearing": BANK_CLEARING.code, "start": start, "end": end},
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


def books_discrepancies() -> dict[str, list[tuple]]:
    """Every invariant of the books, re-checked from the raw tables; {} when all hold.

    The ledger's own (accounting.selectors.ledger_discrepancies: entries balanced and
    complete, cached balances equal to their lines), the trial balance netting to zero, and
    the payments' (exactly one payment entry per payment, debiting bank clearing by its
    amount; no payment entry without a payment; bank clearing's payment debits equal to the
    payments' total). Used by the reconciliation report, the tests' after-each check and
    the benchmark. Call it inside one snapshot (REPEATABLE READ) when writers may be running.
    """
    found = dict(ledger_discrepancies())
    rows = trial_balance_get()
    debits = sum((row.debit for row in rows), Decimal(0))
    credits = sum((row.credit for row in rows), Decimal(0))
    if debits != credits:
        found["trial_balance_not_zero"] = [(debits, credits, debits - credits)]
    mismatched = payments_not_matching_their_entry()
    if mismatched:
        found["payment_entry_mismatch"] = mismatched
    orphans = payment_entries_without_payment()
    if orphans:
        found["payment_entry_without_payment"] = orphans
    clearing_total, payments_total = clearing_and_payments_totals()
    if clearing_total != payments_total:
        found["clearing_differs_from_payments"] = [(clearing_total, payments_total)]
    return found
