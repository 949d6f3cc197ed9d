"""Writes to the ledger. Every posting goes through `accounting_post_entry`
(accounting/sql/post_entry.sql)."""

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from accounting.chart import SYSTEM_ACCOUNTS, UNIDENTIFIED_RECEIPTS
from accounting.exceptions import (
    AlreadyReversed,
    InvalidLine,
    NotReclassifiable,
    NotReversible,
    UnbalancedEntry,
)
from accounting.models import Account, ClosedDay, EntryKind, JournalEntry, Side
from accounting.selectors import (
    account_get_by_code,
    journal_entry_reclassifiable,
    journal_entry_reversible,
    suspense_credit_of,
)
from common.dates import day_bounds
from common.locks import LockNamespace, advisory_xact_lock

logger = logging.getLogger(__name__)

# How many balance deltas one fold transaction consolidates at most.
FOLD_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class LineSpec:
    account: Account
    side: str
    amount: Decimal


def chart_of_accounts_seed() -> None:
    """Create the system accounts (accounting/chart.py) that are missing; idempotent."""
    for account in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(
            code=account.code, defaults={"name": account.name, "type": account.type}
        )


def account_create(*, code: str, name: str, type: str, currency: str | None = None) -> Account:
    """Open an account. Raises IntegrityError if the code is taken."""
    fields = {"code": code, "name": name, "type": type}
    if currency:
        fields["currency"] = currency
    return Account.objects.create(**fields)


def _validate_lines(lines: Sequence[LineSpec]) -> None:
    if len(lines) < 2:
        raise InvalidLine("A journal entry needs at least two lines.")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.side not in Side.values:
            raise InvalidLine(f"Unknown side {line.side!r}.")
        if not isinstance(line.amount, Decimal) or not line.amount.is_finite() or line.amount <= 0:
            raise InvalidLine(f"Line amount must be a positive Decimal, got {line.amount!r}.")
        if line.amount != line.amount.quantize(Decimal("0.01")):
            raise InvalidLine(f"Line amount {line.amount} has more than two decimal places.")
        totals[line.account.currency] += line.amount if line.side == Side.DEBIT else -line.amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedEntry(f"Debits and credits differ: {unbalanced}.")


def journal_entry_post(
    *,
    kind: str,
    lines: Sequence[LineSpec],
    memo: str = "",
    reference: str = "",
    party: str = "",
    reverses: JournalEntry | None = None,
    reclassifies: JournalEntry | None = None,
    reason: str = "",
    created_by=None,
) -> JournalEntry:
    """Post a balanced entry with its lines, balance deltas and balance-change log rows.

    Runs in the caller's transaction (or its own statement in autocommit); takes no locks
    beyond the inserted rows. Raises InvalidLine or UnbalancedEntry before touching the
    database; the deferred triggers re-check the entry at commit. Once that commits, the
    balance-change log dispatch is queued.
    """
    _validate_lines(lines)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT accounting_post_entry(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                kind,
                memo,
                reference,
                party,
                [line.account.pk for line in lines],
                [line.side for line in lines],
                [line.amount for line in lines],
                [line.account.currency for line in lines],
                reverses.pk if reverses else None,
                reclassifies.pk if reclassifies else None,
                reason,
                created_by.pk if created_by else None,
            ],
        )
        (entry_id,) = cursor.fetchone()
    balance_changes_dispatch_on_commit()
    return JournalEntry.objects.get(pk=entry_id)


def _lock_entry(entry: JournalEntry) -> JournalEntry:
    # Serializes the corrections of one entry. An advisory lock rather than SELECT ... FOR
    # UPDATE, which would need an UPDATE privilege the application's role does not have.
    advisory_xact_lock(LockNamespace.ENTRY, entry.pk)
    return JournalEntry.objects.get(pk=entry.pk)


@transaction.atomic
def journal_entry_reverse(*, entry: JournalEntry, reason: str, created_by=None) -> JournalEntry:
    """Post the mirror image of `entry`, pointing at it; an entry is reversed at most once.

    One transaction; locks the original entry's row. Raises NotReversible for a reversal,
    or for a receipt that was reclassified (reverse the reclassification first), and
    AlreadyReversed when a reversal exists.
    """
    if not reason.strip():
        raise NotReversible("A reversal needs a reason.")
    entry = _lock_entry(entry)
    verdict = journal_entry_reversible(entry=entry)
    if not verdict:
        raise verdict.refusal
    mirror = [
        LineSpec(
            account=line.account,
            side=Side.CREDIT if line.side == Side.DEBIT else Side.DEBIT,
            amount=line.amount.amount,
        )
        for line in entry.lines.select_related("account")
    ]
    try:
        with transaction.atomic():
            return journal_entry_post(
                kind=EntryKind.REVERSAL,
                lines=mirror,
                memo=f"Reversal of entry #{entry.pk}",
                reference=entry.reference,
                party=entry.party,
                reverses=entry,
                reason=reason,
                created_by=created_by,
            )
    except IntegrityError as exc:  # the UNIQUE on reverses_id: a concurrent reversal won
        raise AlreadyReversed(f"Entry #{entry.pk} is already reversed.") from exc


@transaction.atomic
def journal_entry_reclassify(
    *, entry: JournalEntry, to_account: Account, reason: str, created_by=None
) -> JournalEntry:
    """Move an unidentified receipt from suspense (unidentified receipts) to `to_account`.

    One transaction; locks the receipt's entry row. Raises NotReclassifiable when the entry
    has no credit to suspense, was reversed, or was reclassified already.
    """
    entry = _lock_entry(entry)
    verdict = journal_entry_reclassifiable(entry=entry)
    if not verdict:
        raise verdict.refusal
    suspense = account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code)
    if to_account.pk == suspense.pk or to_account.currency != suspense.currency:
        raise NotReclassifiable(f"Cannot reclassify into {to_account.code}.")
    amount = suspense_credit_of(entry=entry)
    try:
        with transaction.atomic():
            return journal_entry_post(
                kind=EntryKind.RECLASSIFICATION,
                lines=[
                    LineSpec(account=suspense, side=Side.DEBIT, amount=amount),
                    LineSpec(account=to_account, side=Side.CREDIT, amount=amount),
                ],
                memo=f"Reclassification of entry #{entry.pk} to {to_account.code}",
                reference=entry.reference,
                party=entry.party,
                reclassifies=entry,
                reason=reason,
                created_by=created_by,
            )
    except IntegrityError as exc:  # the UNIQUE on reclassifies_id
        raise NotReclassifiable(f"Entry #{entry.pk} is already reclassified.") from exc


_FOLD_SQL = """
WITH bound AS (
    SELECT max(id) AS id FROM (
        SELECT id FROM accounting_balancedelta
         WHERE account_id <> ALL(%(skip)s) {only_account}
         ORDER BY id
         LIMIT %(limit)s) batch
), moved AS (
    -- A range of ids under a bound computed once (an InitPlan), not a join with the batch:
    -- the delta table is a queue whose statistics nearly always say it is empty, and with
    -- those a semi-join re-reads the batch for every delta (quadratic in the batch).
    DELETE FROM accounting_balancedelta d
     WHERE d.id <= (SELECT id FROM bound)
       AND d.account_id <> ALL(%(skip)s) {only_account}
 RETURNING d.account_id, d.amount
), sums AS (
    SELECT account_id, sum(amount) AS amount, count(*) AS n FROM moved GROUP BY account_id
), upserted AS (
    INSERT INTO accounting_accountbalance (account_id, balance, updated_at)
    SELECT account_id, amount, now() FROM sums
    ON CONFLICT (account_id) DO UPDATE
       SET balance = accounting_accountbalance.balance + EXCLUDED.balance,
           updated_at = EXCLUDED.updated_at
)
SELECT coalesce(sum(n), 0) FROM sums
"""


def _fold_batch(*, limit: int, skip: set[int], account: int | None = None) -> int:
    """One fold statement (so one transaction, or a savepoint inside the caller's)."""
    sql = _FOLD_SQL.format(only_account="AND account_id = %(account)s" if account else "")
    params = {"limit": limit, "skip": sorted(skip), "account": account}
    savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(sql, params)
        (count,) = cursor.fetchone()
    return int(count)


def account_balances_fold(*, batch_size: int = FOLD_BATCH_SIZE, max_batches: int = 100) -> int:
    """Consolidate committed balance deltas into AccountBalance; return how many were folded.

    Each batch is one statement, so one transaction: deltas are deleted and their sums added
    in the same commit, and a reader's single-statement snapshot sees each amount exactly
    once. Writers are never blocked; concurrent folds wait for each other's rows and skip
    those already folded.

    An account whose cached balance cannot take its deltas (the database refuses the sum)
    is logged at ERROR and left unfolded, with its balance still exact; the others fold on.
    """
    folded = 0
    failing: set[int] = set()
    for _ in range(max_batches):
        try:
            count = _fold_batch(limit=batch_size, skip=failing)
        except DataError:
            count = 0
            for account in _accounts_of_next_batch(limit=batch_size, skip=failing):
                try:
                    count += _fold_batch(limit=batch_size, skip=failing, account=account)
                except DataError as exc:
                    failing.add(account)
                    logger.error(
                        "Balance deltas of account id=%s cannot be folded, left pending: %s",
                        account,
                        str(exc).split("\n")[0],
                    )
            if count == 0:
                continue  # the batch held only failing accounts; take the next
        folded += count
        if count < batch_size:
            break
    return folded


def _accounts_of_next_batch(*, limit: int, skip: set[int]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT account_id FROM (
                SELECT account_id FROM accounting_balancedelta
                 WHERE account_id <> ALL(%(skip)s) ORDER BY id LIMIT %(limit)s) batch
            """,
            {"limit": limit, "skip": sorted(skip)},
        )
        return [row[0] for row in cursor.fetchall()]


balance_change_log = logging.getLogger("accounting.balance_changes")

# One batch of the log, in id order. Each change's balance_after is the account's balance as
# of its last logged change plus this change, so every logged line is exact in the log's own
# order and the last line of an account equals its balance once all its changes are logged.
_DISPATCH_SQL = """
WITH batch AS (
    SELECT id, account_id, amount FROM accounting_balancechange
     WHERE dispatched_at IS NULL
     ORDER BY id
     LIMIT %(limit)s
       FOR UPDATE
), running AS (
    SELECT b.id, b.account_id,
           coalesce(l.balance, 0)
           + sum(b.amount) OVER (PARTITION BY b.account_id ORDER BY b.id) AS balance_after
      FROM batch b
      LEFT JOIN accounting_loggedbalance l ON l.account_id = b.account_id
), logged AS (
    UPDATE accounting_balancechange c
       SET dispatched_at = now(), balance_after = r.balance_after
      FROM running r
     WHERE c.id = r.id
 RETURNING c.id, c.account_id, c.entry_id, c.amount, c.balance_after
), positions AS (
    INSERT INTO accounting_loggedbalance (account_id, balance)
    SELECT DISTINCT ON (account_id) account_id, balance_after FROM running
     ORDER BY account_id, id DESC
    ON CONFLICT (account_id) DO UPDATE SET balance = EXCLUDED.balance
)
SELECT g.id, a.code, e.party, g.amount, g.balance_after, e.reference, e.id, e.kind
  FROM logged g
  JOIN accounting_account a ON a.id = g.account_id
  JOIN accounting_journalentry e ON e.id = g.entry_id
 ORDER BY g.id
"""


def balance_changes_dispatch(*, limit: int = 1000, max_batches: int = 100) -> int:
    """Write the undispatched balance changes to the balance-change log, oldest first, in
    batches of `limit`, and mark them dispatched with their running `balance_after`; return
    how many were logged.

    Dispatches run one at a time (an advisory lock; a second one waits, then logs what is
    left), so each account's running balance follows the log's order. Each batch is one
    transaction: its rows are marked and logged before it commits, so a change is logged once
    (a crash between the log line and the commit logs it again, marked by the same id).
    """
    logged = 0
    for _ in range(max_batches):
        with transaction.atomic():
            advisory_xact_lock(LockNamespace.BALANCE_LOG, "dispatch")
            with connection.cursor() as cursor:
                cursor.execute(_DISPATCH_SQL, {"limit": limit})
                rows = cursor.fetchall()
            for change_id, code, party, amount, balance_after, reference, entry_id, kind in rows:
                balance_change_log.info(
                    "balance change id=%s inn=%s account=%s amount=%+.2f balance_after=%.2f "
                    "operation_id=%s entry=%s kind=%s",
                    change_id, party or "-", code, amount, balance_after, reference or "-",
                    entry_id, kind,
                )  # fmt: skip
        logged += len(rows)
        if len(rows) < limit:
            break
    return logged


class _PublishThrottle:
    """Per process: queue a dispatch at once, or, within `interval` of the last one, make sure
    one is queued to run at the end of that interval. Every commit is followed by a dispatch
    that starts after it, at a cost of at most two publishes per interval per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_free = 0.0  # monotonic time from which an immediate publish is allowed
        self.trailing_at = 0.0  # when the already queued delayed dispatch runs

    def plan(self, now: float, interval: float) -> float | None:
        """Seconds of delay for a publish now, or None when a queued dispatch covers it."""
        with self.lock:
            if now >= self.next_free:
                self.next_free = now + interval
                return 0.0
            if self.trailing_at < self.next_free:
                self.trailing_at = self.next_free
                return self.next_free - now
            return None


_publish_throttle = _PublishThrottle()


def balance_changes_dispatch_on_commit() -> None:
    """Queue the balance-change log dispatch once the current transaction commits.

    Publishes are throttled per process (BALANCE_CHANGE_PUBLISH_INTERVAL_SECONDS): under load,
    one dispatch logs the changes of many bookings. A broker that cannot be reached loses
    nothing: the changes stay undispatched and the periodic sweep logs them. The caller's
    response is not held up by the broker.
    """

    def publish() -> None:
        from accounting.tasks import balance_changes_dispatch_task  # tasks import services

        delay = _publish_throttle.plan(
            time.monotonic(), settings.BALANCE_CHANGE_PUBLISH_INTERVAL_SECONDS
        )
        if delay is None:
            return
        try:
            balance_changes_dispatch_task.apply_async(countdown=delay or None)
        except Exception:  # any broker failure; the sweep covers it
            logger.warning("Broker unavailable; balance changes left for the sweep")

    transaction.on_commit(publish)


def journal_days_close(*, now: datetime | None = None) -> list[date]:
    """Close every journal day that ended at least JOURNAL_DAY_CLOSE_AFTER_SECONDS ago and is
    not closed yet, in order; return the days closed.

    Days are the service's local days (DJANGO_TIME_ZONE). The first day closed is the day of
    the earliest entry; after that, days close one after the other, empty ones included.
    Each day is one transaction (accounting_journal_day_close): it waits for the entries of
    that day still committing, then writes every account's totals of the day; from then on
    no entry can be posted into it.
    """
    now = now or timezone.now()
    last = ClosedDay.objects.order_by("-day").first()
    if last is not None:
        day = last.day + timedelta(days=1)
    else:
        first = JournalEntry.objects.order_by("posted_at").values_list("posted_at", flat=True)
        first = first.first()
        if first is None:
            return []
        day = timezone.localtime(first).date()
    horizon = now - timedelta(seconds=settings.JOURNAL_DAY_CLOSE_AFTER_SECONDS)
    closed = []
    while True:
        starts, ends = day_bounds(day, day)
        if ends > horizon:
            return closed
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT accounting_journal_day_close(%s, %s, %s)", [day, starts, ends])
        closed.append(day)
        day += timedelta(days=1)
