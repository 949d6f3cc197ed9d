"""Fill a ledger with payments at COPY speed, for benchmarks at size, keeping every rule.

Nothing is switched off: the entries and lines go through their triggers (the lines'
statement trigger writes the balance deltas and balance-change rows; each entry's deferred
check runs at commit), so the books hold whatever this code gets wrong. What is loaded:

- payments with their entries (Dr bank clearing / Cr the organization, or unidentified
  receipts for INNs without one) and one booked delivery each, over `days` days;
- a share of them to one "hot" organization;
- reversals of a share of the organizations' payments;
- then the deltas folded, the balance changes marked logged with their running balance
  (the history is not written to the log stream), and the journal days that are over
  closed, as beat would have closed them (accounting_journal_day_close).

Payments are spread over the `days` days before now, but never into a day already closed:
the entries' commit check refuses those, so a second load starts where the closed days end.

Every loaded payment's document number starts with BULK-, and the loader refuses a database
holding payments it did not load, so it can never mix test data into real books.
"""

import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from accounting.chart import BANK_CLEARING, UNIDENTIFIED_RECEIPTS
from accounting.models import ClosedDay, EntryKind, Side
from accounting.selectors import account_get_by_code
from accounting.services import account_balances_fold, journal_days_close
from common.locks import LockNamespace, advisory_xact_lock
from organizations.inn import inn_with_check_digit
from organizations.models import Organization
from organizations.services import organization_create
from webhooks.models import DeliveryResult, Payment
from webhooks.services import IncomingPayment

DOCUMENT_PREFIX = "BULK-"

ENTRY_COLUMNS = ("id", "kind", "memo", "reference", "party", "line_count", "reason",
                 "posted_at", "reverses_id")  # fmt: skip
LINE_COLUMNS = ("entry_id", "account_id", "side", "amount", "amount_currency")
PAYMENT_COLUMNS = ("id", "operation_id", "amount", "amount_currency", "payer_inn",
                   "document_number", "document_date", "payload_hash", "entry_id",
                   "received_at")  # fmt: skip
DELIVERY_COLUMNS = ("received_at", "result", "http_status", "operation_id", "payment_id",
                    "raw_body", "headers")  # fmt: skip


class BulkLoadRefused(Exception):
    """The database holds payments this loader did not load."""


@dataclass
class BulkLoadReport:
    payments: int = 0
    unidentified: int = 0
    reversals: int = 0
    organizations: int = 0
    closed_days: int = 0
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)

    @property
    def payments_per_second(self) -> float:
        return self.payments / self.seconds if self.seconds else 0.0


def _copy(cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return [row[0] for row in cursor.fetchall()]


def _organizations(count: int) -> list[Organization]:
    existing = list(Organization.objects.order_by("id")[:count])
    for number in range(len(existing) + 1, count + 1):
        inn = inn_with_check_digit(f"55{number:07d}")
        existing.append(organization_create(inn=inn, name=f"Bulk organization {number}"))
    return existing


def ledger_bulk_load(
    *,
    payments: int,
    organizations: int,
    hot_share: float,
    unknown_share: float = 0.05,
    reversal_share: float = 0.01,
    days: int = 365,
    batch_size: int = 20_000,
    seed: int = 1,
    close_days: bool = True,
    progress=None,
) -> BulkLoadReport:
    """Load `payments` payments over `days` days ending now, to `organizations`
    organizations (`hot_share` of them to the first), `unknown_share` to INNs without an
    organization, and reverse `reversal_share` of the organizations' payments.

    One transaction per batch of `batch_size` payments. Raises BulkLoadRefused when the
    database holds payments not loaded by this function, or when every one of those days is
    closed. With `close_days`, the days that are over are closed at the end.
    """
    if Payment.objects.exclude(document_number__startswith=DOCUMENT_PREFIX).exists():
        raise BulkLoadRefused(
            "The database holds payments that were not bulk-loaded; refusing to add to them."
        )
    started = time.monotonic()
    report = BulkLoadReport()
    orgs = _organizations(organizations)
    report.organizations = len(orgs)
    clearing = account_get_by_code(code=BANK_CLEARING.code)
    suspense = account_get_by_code(code=UNIDENTIFIED_RECEIPTS.code)
    unknown_inns = [inn_with_check_digit(f"56{n:07d}") for n in range(1, 101)]
    first = Payment.objects.count()
    # Seeded by what is loaded already too, so a second load draws other operation ids.
    rng = random.Random(f"{seed}/{first}")
    end = datetime.now(UTC) - timedelta(minutes=1)
    start = end - timedelta(days=days)
    closed_until = ClosedDay.objects.order_by("-day").values_list("ends_at", flat=True).first()
    if closed_until is not None and closed_until > start:
        start = closed_until
    if start >= end - timedelta(seconds=2):
        raise BulkLoadRefused(
            f"Every journal day up to {closed_until:%Y-%m-%d %H:%M %Z} is closed; "
            "no entry can be posted into them."
        )
    # Reversals are posted a second after their payment, so payments end a second earlier.
    span = (end - start).total_seconds() - 1
    currency = settings.DEFAULT_CURRENCY

    done = 0
    while done < payments:
        count = min(batch_size, payments - done)
        with transaction.atomic(), connection.cursor() as cursor:
            entries, lines, payment_rows, deliveries = [], [], [], []
            entry_ids = _reserve_ids(cursor, "accounting_journalentry", count * 2)
            payment_ids = _reserve_ids(cursor, "webhooks_payment", count)
            # Each batch fills its own slice of the span, in time order, as real intake would
            # (ids follow time), and its entries' commit checks take the advisory locks of a
            # few posting hours rather than of every hour of the span.
            slice_start = start + timedelta(seconds=span * done / payments)
            slice_span = span * count / payments
            moments = sorted(
                slice_start + timedelta(seconds=rng.random() * slice_span) for _ in range(count)
            )
            reversals = []
            for n in range(count):
                number = first + done + n + 1
                if rng.random() < unknown_share:
                    inn, credit = rng.choice(unknown_inns), suspense.pk
                    report.unidentified += 1
                else:
                    org = orgs[0] if rng.random() < hot_share else rng.choice(orgs)
                    inn, credit = org.inn, org.account_id
                amount = Decimal(rng.randint(100, 50_000_000)) / 100
                posted = moments[n]
                incoming = IncomingPayment(
                    operation_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    amount=amount,
                    payer_inn=inn,
                    document_number=f"{DOCUMENT_PREFIX}{number}",
                    document_date=posted.replace(microsecond=0),
                )
                entry_id = entry_ids[n]
                entries.append(
                    (entry_id, EntryKind.PAYMENT.value,
                     f"Payment {incoming.document_number} from INN {inn}",
                     str(incoming.operation_id), inn, 2, "", posted, None)
                )  # fmt: skip
                lines.append((entry_id, clearing.pk, Side.DEBIT.value, amount, currency))
                lines.append((entry_id, credit, Side.CREDIT.value, amount, currency))
                payment_rows.append(
                    (payment_ids[n], incoming.operation_id, amount, currency, inn,
                     incoming.document_number, incoming.document_date,
                     incoming.payload_hash(), entry_id, posted)
                )  # fmt: skip
                body = json.dumps(
                    {"operation_id": str(incoming.operation_id), "amount": str(amount),
                     "payer_inn": inn, "document_number": incoming.document_number,
                     "document_date": incoming.document_date.isoformat()}
                )  # fmt: skip
                result = (
                    DeliveryResult.UNIDENTIFIED
                    if credit == suspense.pk
                    else (DeliveryResult.BOOKED)
                )
                deliveries.append(
                    (posted, result.value, 200, incoming.operation_id, payment_ids[n], body, "{}")
                )
                if credit != suspense.pk and rng.random() < reversal_share:
                    reversals.append((entry_id, credit, amount, inn, incoming.operation_id,
                                      posted))  # fmt: skip
            for k, (original, credit, amount, inn, operation_id, posted) in enumerate(reversals):
                entry_id = entry_ids[count + k]
                entries.append(
                    (entry_id, EntryKind.REVERSAL.value, f"Reversal of entry #{original}",
                     str(operation_id), inn, 2, "Bulk-loaded reversal",
                     posted + timedelta(seconds=1), original)
                )  # fmt: skip
                lines.append((entry_id, clearing.pk, Side.CREDIT.value, amount, currency))
                lines.append((entry_id, credit, Side.DEBIT.value, amount, currency))
            _copy(cursor, "accounting_journalentry", ENTRY_COLUMNS, entries)
            _copy(cursor, "accounting_journalline", LINE_COLUMNS, lines)
            _copy(cursor, "webhooks_payment", PAYMENT_COLUMNS, payment_rows)
            _copy(cursor, "webhooks_delivery", DELIVERY_COLUMNS, deliveries)
            report.reversals += len(reversals)
        done += count
        report.payments = done
        if progress:
            progress(report, time.monotonic() - started)
    report.phases["copy_s"] = round(time.monotonic() - started, 1)
    phase = time.monotonic()
    account_balances_fold()
    report.phases["fold_s"] = round(time.monotonic() - phase, 1)
    phase = time.monotonic()
    _mark_changes_logged()
    report.phases["log_s"] = round(time.monotonic() - phase, 1)
    if close_days:
        phase = time.monotonic()
        if connection.in_atomic_block:
            # Inside a caller's transaction the entries' deferred checks have not run yet;
            # run them now, before their days close, as each batch's commit would have.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        report.closed_days = len(journal_days_close())
        report.phases["close_s"] = round(time.monotonic() - phase, 1)
    report.seconds = time.monotonic() - started
    return report


_MARK_LOGGED_SQL = """
WITH batch AS (
    SELECT id, account_id, amount FROM accounting_balancechange
     WHERE dispatched_at IS NULL ORDER BY id LIMIT %(limit)s
), running AS (
    SELECT b.id, b.account_id,
           coalesce(l.balance, 0)
           + sum(b.amount) OVER (PARTITION BY b.account_id ORDER BY b.id) AS balance_after
      FROM batch b LEFT JOIN accounting_loggedbalance l ON l.account_id = b.account_id
), marked AS (
    UPDATE accounting_balancechange c SET dispatched_at = now(), balance_after = r.balance_after
      FROM running r WHERE c.id = r.id
), positions AS (
    INSERT INTO accounting_loggedbalance (account_id, balance)
    SELECT DISTINCT ON (account_id) account_id, balance_after FROM running
     ORDER BY account_id, id DESC
    ON CONFLICT (account_id) DO UPDATE SET balance = EXCLUDED.balance
)
SELECT count(*) FROM running
"""


def _mark_changes_logged(batch: int = 100_000) -> None:
    """Mark the loaded balance changes logged, with the running balance the dispatch would
    have given them, without writing millions of log lines."""
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            advisory_xact_lock(LockNamespace.BALANCE_LOG, "dispatch")
            cursor.execute(_MARK_LOGGED_SQL, {"limit": batch})
            (count,) = cursor.fetchone()
        if count < batch:
            return
