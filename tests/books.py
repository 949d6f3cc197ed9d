"""Assertions about the books, used after every test that touches the database."""

from django.db import connection

from reconciliation.selectors import books_discrepancies


def assert_books_balanced() -> None:
    """Every invariant of the books holds (reconciliation.selectors.books_discrepancies):
    the trial balance nets to zero, every cached balance equals the sum of its lines, every
    entry is complete and balanced, and payments match the bank clearing account."""
    with connection.cursor() as cursor:
        # Run the deferred entry checks now, as a commit would.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    assert books_discrepancies() == {}
