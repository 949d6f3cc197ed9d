"""Balances stay exact while writers and folds run at the same time, on separate connections."""

import random
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from accounting.models import EntryKind, Side
from accounting.selectors import account_balance_get, account_get_by_code
from accounting.services import LineSpec, account_balances_fold, journal_entry_post
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 4
POSTINGS_PER_WRITER = 60
FOLDERS = 2

# The cached balance (balance + pending deltas) and the sum of the journal lines, computed in
# one statement and so from one snapshot: they must agree at every instant.
_SNAPSHOT_SQL = """
SELECT coalesce((SELECT balance FROM accounting_accountbalance WHERE account_id = %(id)s), 0)
     + coalesce((SELECT sum(amount) FROM accounting_balancedelta WHERE account_id = %(id)s), 0),
       coalesce((SELECT sum(CASE WHEN side = 'D' THEN amount ELSE -amount END)
                   FROM accounting_journalline WHERE account_id = %(id)s), 0)
"""


def _in_thread(target, *args):
    def run():
        try:
            target(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_balance_is_exact_while_writers_and_folds_run_concurrently():
    clearing = account_get_by_code(code="51")
    organizations = [OrganizationFactory().account for _ in range(3)]
    posted: list[Decimal] = []
    writers_done = threading.Event()
    folds: list[int] = []
    observations: list[tuple[Decimal, Decimal]] = []
    errors: list[BaseException] = []

    def write(seed):
        rng = random.Random(seed)
        try:
            for _ in range(POSTINGS_PER_WRITER):
                amount = Decimal(rng.randint(1, 100_000)) / 100
                journal_entry_post(
                    kind=EntryKind.MANUAL,
                    lines=[
                        LineSpec(account=clearing, side=Side.DEBIT, amount=amount),
                        LineSpec(
                            account=rng.choice(organizations), side=Side.CREDIT, amount=amount
                        ),
                    ],
                )
                posted.append(amount)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    def fold():
        deadline = time.monotonic() + 60
        while not writers_done.is_set() and time.monotonic() < deadline:
            folds.append(account_balances_fold(batch_size=25))

    def observe():
        deadline = time.monotonic() + 60
        with connection.cursor() as cursor:
            while not writers_done.is_set() and time.monotonic() < deadline:
                cursor.execute(_SNAPSHOT_SQL, {"id": clearing.pk})
                observations.append(cursor.fetchone())

    writers = [_in_thread(write, seed) for seed in range(WRITERS)]
    others = [_in_thread(fold) for _ in range(FOLDERS)] + [_in_thread(observe)]
    for thread in writers:
        thread.join(timeout=120)
    writers_done.set()
    for thread in others:
        thread.join(timeout=60)

    assert errors == []
    assert len(posted) == WRITERS * POSTINGS_PER_WRITER
    assert sum(folds) > 0, "the folds never ran alongside the writers"
    assert len(observations) > 10
    assert all(cached == from_lines for cached, from_lines in observations)
    total = sum(posted, Decimal(0))
    assert account_balance_get(account=clearing) == total
    assert sum(account_balance_get(account=a) for a in organizations) == total
    account_balances_fold()
    assert account_balance_get(account=clearing) == total
