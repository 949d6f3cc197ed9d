"""Assertions about the books, used after every test that touches the database."""

from decimal import Decimal

from django.db import connection

from accounting.models import BANK_CLEARING_CODE, EntryKind, JournalEntry, JournalLine, Side
from accounting.selectors import ledger_discrepancies, trial_balance_get
from webhooks.models import Payment


def assert_books_balanced() -> None:
    """The trial balance nets to zero, every cached balance equals the sum of its lines,
    every entry is complete and balanced, and payments match the bank clearing account."""
    with connection.cursor() as cursor:
        # Run the deferred entry checks now, as a commit would.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    assert ledger_discrepancies() == {}
    rows = trial_balance_get()
    assert sum((row.balance for row in rows), Decimal(0)) == 0
    assert sum((row.debit for row in rows), Decimal(0)) == sum(
        (row.credit for row in rows), Decimal(0)
    )
    payments = Payment.objects.select_related("entry")
    # Exactly one payment entry per payment, and no payment entry without a payment.
    assert all(p.entry.kind == EntryKind.PAYMENT for p in payments)
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == len(payments)
    clearing_debits = sum(
        (
            line.amount.amount
            for line in JournalLine.objects.filter(
                account__code=BANK_CLEARING_CODE,
                side=Side.DEBIT,
                entry__kind=EntryKind.PAYMENT,
            )
        ),
        Decimal(0),
    )
    assert clearing_debits == sum((p.amount.amount for p in payments), Decimal(0))
