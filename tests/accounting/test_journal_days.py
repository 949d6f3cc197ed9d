"""Closed journal days: their totals are final and no entry can enter them afterwards."""

import threading
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounting.models import AccountDayTotal, ClosedDay
from accounting.selectors import account_get_by_code
from accounting.services import journal_days_close
from common.dates import day_bounds
from tests.factories import OrganizationFactory
from tests.servers import database_url_of

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = timezone.localdate()


def _post_at(moment, clearing, organization, amount="10.00", cursor=None):
    """A balanced entry posted at `moment`, in raw SQL (as a back-dated import would)."""
    sql = """
        WITH e AS (
            INSERT INTO accounting_journalentry (kind, memo, reference, party, line_count,
                                                 reason, posted_at)
            VALUES ('manual', 'dated', '', '', 2, '', %(at)s) RETURNING id)
        INSERT INTO accounting_journalline (entry_id, account_id, side, amount, amount_currency)
        SELECT e.id, a, s, %(amount)s, 'RUB' FROM e,
               (VALUES (%(clearing)s::bigint, 'D'), (%(organization)s::bigint, 'C')) v(a, s)
    """
    params = {"at": moment, "amount": amount, "clearing": clearing, "organization": organization}
    if cursor is not None:
        cursor.execute(sql, params)
        return
    with transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)


@pytest.fixture
def accounts():
    return account_get_by_code(code="51").pk, OrganizationFactory().account.pk


def test_days_close_in_order_with_the_totals_of_their_lines(accounts):
    clearing, organization = accounts
    three_days_ago, _ = day_bounds(TODAY - timedelta(days=3), None)
    _post_at(three_days_ago + timedelta(hours=1), clearing, organization, "10.00")
    _post_at(three_days_ago + timedelta(hours=2), clearing, organization, "2.50")
    _post_at(three_days_ago + timedelta(days=2, hours=3), clearing, organization, "7.00")

    closed = journal_days_close()

    # Three days ago to the day before yesterday... and yesterday, an hour after it ended.
    assert closed == [TODAY - timedelta(days=n) for n in (3, 2, 1)]
    first = AccountDayTotal.objects.get(day=TODAY - timedelta(days=3), account_id=organization)
    assert (first.debit, first.credit, first.lines) == (Decimal("0"), Decimal("12.50"), 2)
    assert not AccountDayTotal.objects.filter(day=TODAY - timedelta(days=2)).exists()  # empty day
    assert journal_days_close() == []  # closing is idempotent


def test_no_entry_can_be_posted_into_a_closed_day(accounts):
    clearing, organization = accounts
    yesterday, _ = day_bounds(TODAY - timedelta(days=1), None)
    _post_at(yesterday, clearing, organization)
    journal_days_close()

    with pytest.raises(IntegrityError, match="in a closed day"):
        _post_at(yesterday + timedelta(hours=5), clearing, organization)
    with pytest.raises(IntegrityError, match="in a closed day"):
        _post_at(yesterday - timedelta(days=30), clearing, organization)  # nor before it


def test_a_day_cannot_be_closed_before_it_is_over_or_out_of_order(accounts):
    clearing, organization = accounts
    with (
        pytest.raises(Exception, match="is not over"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        starts, ends = day_bounds(TODAY, TODAY)
        c.execute("SELECT accounting_journal_day_close(%s, %s, %s)", [TODAY, starts, ends])
    day = TODAY - timedelta(days=5)
    starts, ends = day_bounds(day, day)
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT accounting_journal_day_close(%s, %s, %s)", [day, starts, ends])
    skipped = day + timedelta(days=2)
    starts, ends = day_bounds(skipped, skipped)
    with (
        pytest.raises(Exception, match="does not follow"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute("SELECT accounting_journal_day_close(%s, %s, %s)", [skipped, starts, ends])
    assert list(ClosedDay.objects.values_list("day", flat=True)) == [day]


def test_closing_waits_for_an_entry_of_the_day_still_committing(accounts, settings):
    """An entry of yesterday, inserted but not yet committed, holds its hour: the close
    waits for its commit and counts it; an entry of the day that commits later is refused."""
    clearing, organization = accounts
    yesterday, _ = day_bounds(TODAY - timedelta(days=1), None)
    _post_at(yesterday - timedelta(hours=2), clearing, organization, "1.00")  # the day before
    url = database_url_of(connection.settings_dict, as_owner=True).replace(
        "postgres://", "postgresql://"
    )
    with psycopg.connect(url) as late:
        _post_at(
            yesterday + timedelta(hours=3), clearing, organization, "5.00", cursor=late.cursor()
        )
        late.execute("SET CONSTRAINTS ALL IMMEDIATE")  # its commit check runs now: hour held

        closer = threading.Thread(target=lambda: (journal_days_close(), connection.close()))
        closer.start()
        closer.join(timeout=2)
        assert closer.is_alive()  # waiting for the entry's hour
        late.commit()
    closer.join(timeout=30)

    total = AccountDayTotal.objects.get(day=TODAY - timedelta(days=1), account_id=organization)
    assert total.credit == Decimal("5.00")
    with pytest.raises(IntegrityError, match="in a closed day"):
        _post_at(yesterday + timedelta(hours=4), clearing, organization)


def _naive_statement(account, start, end):
    """Every line of `account` in [start, end), with running balances, straight from the
    lines: what the statement must say, however it reads."""
    from accounting.models import JournalLine

    lines = list(
        JournalLine.objects.filter(account=account)
        .select_related("entry")
        .order_by("entry__posted_at", "id")
    )
    sign = {"D": -1, "C": 1}  # a liability account: credits increase it
    balance, opening, rows = Decimal(0), None, []
    for line in lines:
        at = line.entry.posted_at
        if end is not None and at >= end:
            break
        if start is not None and at < start:
            balance += sign[line.side] * line.amount.amount
            continue
        if opening is None:
            opening = balance
        balance += sign[line.side] * line.amount.amount
        rows.append((line.entry_id, balance))
    return (balance if opening is None else opening), balance, rows


@pytest.mark.parametrize(
    ("start_days", "end_days", "offset", "limit"),
    [(None, None, 0, 100), (None, None, 7, 5), (6, 2, 0, 3), (6, 2, 4, 10), (3, None, 2, 50),
     (1, None, 0, 100), (None, 4, 5, 2)],
)  # fmt: skip
def test_statement_over_closed_days_is_the_statement_of_its_lines(
    accounts, start_days, end_days, offset, limit
):
    from accounting.models import Account
    from accounting.selectors import account_statement_get

    clearing, organization = accounts
    for days_ago in (7, 6, 6, 5, 3, 3, 3, 2, 1):
        at, _ = day_bounds(TODAY - timedelta(days=days_ago), None)
        _post_at(at + timedelta(hours=days_ago), clearing, organization, f"{days_ago}.25")
    journal_days_close()
    for amount in ("0.50", "1.75"):  # today: the open tail
        _post_at(timezone.now() - timedelta(minutes=5), clearing, organization, amount)
    account = Account.objects.get(pk=organization)
    start = day_bounds(TODAY - timedelta(days=start_days), None)[0] if start_days else None
    end = day_bounds(TODAY - timedelta(days=end_days), None)[0] if end_days else None

    statement = account_statement_get(
        account=account, start=start, end=end, offset=offset, limit=limit
    )

    opening, closing, rows = _naive_statement(account, start, end)
    assert ClosedDay.objects.exists()
    assert (statement.opening, statement.closing, statement.total_lines) == (
        opening,
        closing,
        len(rows),
    )
    assert [(ln.entry_id, ln.balance) for ln in statement.lines] == rows[offset : offset + limit]
