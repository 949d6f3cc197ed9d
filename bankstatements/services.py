"""Writes of bank statements: import, matching, and booking what the webhooks missed.

One service per entry point's work; the admin upload, `manage.py import_bank_statement` and
`POST /api/v1/bank-statements/` all call `bank_statement_import`.
"""

import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from bankstatements.exceptions import StatementRefused
from bankstatements.models import (
    BankStatement,
    LineDirection,
    LineStatus,
    StatementLine,
)
from bankstatements.parser import ParsedStatement, StatementFormatError, statement_parse
from bankstatements.selectors import statement_line_is_current
from common.db import prepared_rows
from common.locks import LockNamespace
from webhooks.selectors import payments_of_document_keys
from webhooks.services import payment_document_lock, statement_payment_book

logger = logging.getLogger(__name__)

# Statements are a day's or a month's documents: kilobytes to a few megabytes.
MAX_STATEMENT_BYTES = 20 * 1024 * 1024


@dataclass
class ImportResult:
    statement: BankStatement | None
    created: bool
    dry_run: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    lines: list[StatementLine] = field(default_factory=list)  # a dry run's unsaved lines
    booked: int = 0


def _parse(content: bytes) -> ParsedStatement:
    if len(content) > MAX_STATEMENT_BYTES:
        raise StatementRefused(0, f"the file is larger than {MAX_STATEMENT_BYTES} bytes")
    try:
        return statement_parse(content, own_account=settings.BANK_ACCOUNT_NUMBER)
    except StatementFormatError as exc:
        raise StatementRefused.from_format_error(exc) from None


def _direction(document) -> str:
    if (
        document.recipient_account == settings.BANK_ACCOUNT_NUMBER
        and document.received_on is not None
    ):
        return LineDirection.INCOMING
    return LineDirection.OUTGOING


def _create(
    parsed: ParsedStatement, *, content: bytes, sha: str, file_name: str, source, imported_by
) -> BankStatement:
    overlapping = list(
        BankStatement.objects.filter(
            account_number=parsed.account,
            period_start__lte=parsed.end,
            period_end__gte=parsed.start,
        )
    )
    sections = [
        {
            "start": s.start.isoformat(),
            "end": s.end.isoformat(),
            "opening": str(s.opening_balance),
            "received": str(s.total_received),
            "paid": str(s.total_paid),
            "closing": str(s.closing_balance),
        }
        for s in parsed.sections
    ]
    statement = BankStatement.objects.create(
        account_number=parsed.account,
        period_start=parsed.start,
        period_end=parsed.end,
        format_version=parsed.format_version,
        encoding=parsed.encoding,
        sender=parsed.sender[:255],
        created_on=parsed.created_on,
        opening_balance=parsed.sections[0].opening_balance,
        closing_balance=parsed.sections[-1].closing_balance,
        total_received=sum(s.total_received for s in parsed.sections),
        total_paid=sum(s.total_paid for s in parsed.sections),
        sections=sections,
        file_name=file_name[:255],
        sha256=sha,
        size=len(content),
        version=1 + max((s.version for s in overlapping), default=0),
        source=source,
        imported_by=imported_by,
    )
    statement.supersedes.set(overlapping)
    StatementLine.objects.bulk_create(
        StatementLine(
            statement=statement,
            position=position,
            file_line=document.line,
            document_type=document.kind[:128],
            number=document.number,
            document_date=document.date,
            amount=document.amount,
            payer_inn=document.payer_inn,
            payer_account=document.payer_account[:34],
            payer_name=document.payer_name[:512],
            recipient_account=document.recipient_account[:34],
            recipient_inn=document.recipient_inn[:12],
            recipient_name=document.recipient_name[:512],
            received_on=document.received_on,
            written_off_on=document.written_off_on,
            purpose=document.purpose,
            direction=_direction(document),
            status=(
                LineStatus.STATEMENT_ONLY
                if _direction(document) == LineDirection.INCOMING
                else LineStatus.OUTGOING
            ),
        )
        for position, document in enumerate(parsed.documents, start=1)
    )
    _carry_over(statement, overlapping)
    return statement


def _carry_over(statement: BankStatement, earlier: list[BankStatement]) -> None:
    """Lines of a new version that earlier versions matched or booked keep their payment."""
    if not earlier:
        return
    kept: dict[tuple, list[StatementLine]] = {}
    for line in (
        StatementLine.objects.filter(statement__in=earlier, payment__isnull=False)
        .exclude(status=LineStatus.AMBIGUOUS)
        .order_by("-statement_id", "position")
    ):
        kept.setdefault((line.document_key(), line.received_on), []).append(line)
    taken: set[int] = set()
    changed = []
    for line in statement.lines.filter(direction=LineDirection.INCOMING).order_by("position"):
        for old in kept.get((line.document_key(), line.received_on), []):
            if old.payment_id not in taken:
                taken.add(old.payment_id)
                line.status, line.payment_id = old.status, old.payment_id
                line.booked_by_id, line.booked_at = old.booked_by_id, old.booked_at
                changed.append(line)
                break
    StatementLine.objects.bulk_update(
        changed, ["status", "payment", "booked_by", "booked_at"], batch_size=500
    )


def _counts(statement: BankStatement) -> dict[str, int]:
    counts = {status: 0 for status in LineStatus.values}
    for line in statement.lines.all():
        counts[line.status] += 1
    return counts


def _title(statement: BankStatement) -> str:
    """The statement as the messages of imports name it: English, as they are also the
    API's answer and a log line (the admin words them itself)."""
    return f"Statement #{statement.pk} v{statement.version}"


def _summary_text(statement: BankStatement, counts: dict[str, int]) -> str:
    return (
        f"{_title(statement)} of "
        f"{statement.period_start:%d.%m.%Y}–{statement.period_end:%d.%m.%Y}: "
        f"{counts[LineStatus.MATCHED]} matched, {counts[LineStatus.STATEMENT_ONLY]} statement "
        f"only, {counts[LineStatus.AMBIGUOUS]} ambiguous, {counts[LineStatus.OUTGOING]} outgoing"
    )


def bank_statement_import(
    *,
    content: bytes,
    file_name: str,
    source: str,
    imported_by=None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a 1CClientBankExchange statement of the service's account and match its lines.

    The whole file is parsed first: a malformed one raises StatementRefused (line number
    and reason) and nothing is stored. A file imported before (same SHA-256) changes
    nothing and says so. Otherwise the original is saved in the default storage (outside
    the transaction, removed again if it fails), and in one transaction, under the file's
    advisory lock, the statement and its lines are written, lines that earlier versions for
    the same days matched or booked keep their payment, and the rest are matched
    (`statement_lines_match`). With BANK_STATEMENT_AUTO_BOOK the statement-only lines are
    then booked, each in its own transaction. A dry run does all of it but storing and
    booking, and rolls back: the result shows what an import would do.
    """
    parsed = _parse(content)
    sha = hashlib.sha256(content).hexdigest()
    existing = BankStatement.objects.filter(sha256=sha).first()
    if existing is not None:
        return _already_imported(existing, dry_run)
    if dry_run:
        with transaction.atomic():
            statement = _create(
                parsed, content=content, sha=sha, file_name=file_name, source=source,
                imported_by=imported_by,
            )  # fmt: skip
            statement_lines_match(statement=statement)
            counts = _counts(statement)
            lines = list(statement.lines.select_related("payment").order_by("position"))
            message = "Dry run, nothing stored. " + _summary_text(statement, counts)
            transaction.set_rollback(True)
        return ImportResult(None, False, True, message, counts, lines)

    stored = default_storage.save(
        f"bank-statements/{parsed.start:%Y/%m}/{sha}.txt", ContentFile(content)
    )
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    [int(LockNamespace.STATEMENT_FILE), sha],
                )
            existing = BankStatement.objects.filter(sha256=sha).first()
            if existing is None:
                statement = _create(
                    parsed, content=content, sha=sha, file_name=file_name, source=source,
                    imported_by=imported_by,
                )  # fmt: skip
                statement.file.name = stored
                statement.save(update_fields=["file"])
                statement_lines_match(statement=statement)
    except BaseException:
        default_storage.delete(stored)
        raise
    if existing is not None:  # a concurrent import of the same file won
        default_storage.delete(stored)
        return _already_imported(existing, dry_run)
    booked = 0
    if settings.BANK_STATEMENT_AUTO_BOOK:
        booked = statement_lines_book(
            lines=statement.lines.filter(status=LineStatus.STATEMENT_ONLY, payment__isnull=True),
            booked_by=imported_by,
            automatic=True,
        ).booked
    counts = _counts(statement)
    message = "Imported. " + _summary_text(statement, counts)
    if booked:
        message += f"; {booked} booked automatically"
    logger.info("Bank statement imported: %s", message)
    return ImportResult(statement, True, False, message, counts, booked=booked)


def _already_imported(statement: BankStatement, dry_run: bool) -> ImportResult:
    imported_at = timezone.localtime(statement.imported_at)
    message = (
        f"Already imported as {_title(statement)} on {imported_at:%d.%m.%Y %H:%M}; nothing changed."
    )
    return ImportResult(statement, False, dry_run, message, _counts(statement))


def open_line_days_forget() -> None:
    """Make this process read the days with open lines again at its next webhook."""
    global _open_days
    with _open_days_lock:
        _open_days = (0.0, frozenset())


def statement_lines_match(*, statement: BankStatement) -> int:
    """Match the incoming lines of `statement` that have no payment yet; return how many
    lines changed status.

    A line's candidates are the payments with its document key (payer INN, document number,
    document date, amount) that no other line of the statement has; when there are several,
    those that arrived on the line's receipt date are preferred. One candidate: matched;
    none: statement only; several: ambiguous, with the candidates kept for an accountant.
    Lines already matched or booked never change. One transaction; the lines are locked
    (FOR UPDATE), so a concurrent match or booking of the same statement waits.
    """
    transaction.on_commit(open_line_days_forget)
    with transaction.atomic():
        lines = list(
            StatementLine.objects.select_for_update()
            .filter(statement=statement, direction=LineDirection.INCOMING)
            .order_by("position")
        )
        claimed = {line.payment_id for line in lines if line.payment_id}
        open_lines = [line for line in lines if line.payment_id is None]
        found = payments_of_document_keys(keys=[line.document_key() for line in open_lines])
        changed = []
        for line in open_lines:
            candidates = [p for p in found[line.document_key()] if p.pk not in claimed]
            if len(candidates) > 1:
                same_day = [
                    p
                    for p in candidates
                    if timezone.localtime(p.received_at).date() == line.received_on
                ]
                if len(same_day) == 1:
                    candidates = same_day
            if len(candidates) == 1:
                status, payment_id, ids = LineStatus.MATCHED, candidates[0].pk, []
                claimed.add(payment_id)
            elif candidates:
                status, payment_id, ids = LineStatus.AMBIGUOUS, None, [p.pk for p in candidates]
            else:
                status, payment_id, ids = LineStatus.STATEMENT_ONLY, None, []
            if (line.status, line.payment_id, line.candidates) != (status, payment_id, ids):
                line.status, line.payment_id, line.candidates = status, payment_id, ids
                changed.append(line)
        StatementLine.objects.bulk_update(
            changed, ["status", "payment", "candidates"], batch_size=500
        )
    return len(changed)


_OPEN_LINES_SQL = """
SELECT DISTINCT statement_id FROM bankstatements_statementline
 WHERE payment_id IS NULL AND status = ANY(%s)
   AND payer_inn = %s AND number = %s AND document_date = %s AND amount = %s
"""


_OPEN_DAYS_SQL = """
SELECT DISTINCT document_date FROM bankstatements_statementline
 WHERE payment_id IS NULL AND status = ANY(%s)
"""
# How long a process trusts its list of days with open lines (see open_line_days).
OPEN_DAYS_TTL_SECONDS = 2.0
_open_days: tuple[float, frozenset] = (0.0, frozenset())
_open_days_lock = threading.Lock()


def open_line_days() -> frozenset:
    """The document days that have an unmatched, unbooked statement line, as this process
    last read them (at most OPEN_DAYS_TTL_SECONDS ago): most webhooks are for a day without
    one, and then their booking pays no query for the statements. A line opened since is
    matched by the next import, "Match again", or the periodic rematch."""
    global _open_days
    now = time.monotonic()
    with _open_days_lock:
        read_at, days = _open_days
        if now - read_at < OPEN_DAYS_TTL_SECONDS:
            return days
    with connection.cursor() as cursor:
        cursor.execute(
            _OPEN_DAYS_SQL, [[LineStatus.STATEMENT_ONLY.value, LineStatus.AMBIGUOUS.value]]
        )
        days = frozenset(row[0] for row in cursor.fetchall())
    with _open_days_lock:
        _open_days = (now, days)
    return days


def statements_with_open_lines_of(*, key) -> list[int]:
    """Ids of the statements with an unmatched, unbooked line of this document key.

    On every webhook booking's path: one prepared, indexed statement (the ORM would cost
    more than the booking's own call)."""
    rows = prepared_rows(
        _OPEN_LINES_SQL,
        [
            [LineStatus.STATEMENT_ONLY.value, LineStatus.AMBIGUOUS.value],
            key.payer_inn,
            key.document_number,
            key.document_day,
            key.amount,
        ],
    )
    return [row[0] for row in rows]


@dataclass
class BookingSummary:
    booked: int = 0
    already_booked: int = 0  # a payment of the line existed: linked, nothing booked
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line id, why)


def _booking_reason(line: StatementLine, automatic: bool) -> str:
    how = "automatically at import" if automatic else "by an accountant"
    return (
        f"Booked {how} from bank statement #{line.statement_id} ({line.statement.file_name}), "
        f"line {line.position} (file line {line.file_line}): document {line.number} of "
        f"{line.document_date:%d.%m.%Y}, received {line.received_on:%d.%m.%Y}; no webhook "
        f"announced it."
    )


def statement_line_book(*, line_id: int, booked_by=None, automatic: bool = False):
    """Book one statement-only line as a payment, unless the payment exists already.

    One transaction: locks the line (FOR UPDATE), then the document key's advisory lock,
    which the webhook booking takes too, so whichever comes second sees the other's
    payment. If a payment of the key exists that no other line of the statement claims,
    the line is matched to it and nothing is booked ("already"). Otherwise a payment with
    source "statement" is booked through webhooks.services.statement_payment_book (Dr bank
    clearing / Cr the organization with the payer's INN, or unidentified receipts), with
    the user and the statement line on its entry; the line records the payment, the user
    and the time. Returns "booked", "already", or the reason the line was skipped.
    """
    with transaction.atomic():
        line = (
            StatementLine.objects.select_for_update(of=("self",))
            .select_related("statement")
            .filter(pk=line_id)
            .first()
        )
        if line is None:
            return "no such line"
        if line.status != LineStatus.STATEMENT_ONLY or line.payment_id is not None:
            return f"not an unbooked statement-only line ({line.get_status_display().lower()})"
        if not statement_line_is_current(line=line):
            return "a newer statement version covers its day; book that version's line"
        key = line.document_key()
        payment_document_lock(key=key)
        # Read after the lock: a line of this statement booked meanwhile is seen.
        claimed = set(
            StatementLine.objects.filter(statement_id=line.statement_id, payment__isnull=False)
            .exclude(pk=line.pk)
            .values_list("payment_id", flat=True)
        )
        booking = statement_payment_book(
            key=key,
            claimed=claimed,
            reason=_booking_reason(line, automatic),
            created_by=booked_by,
        )
        line.payment_id = booking.payment_id
        if booking.booked:
            line.booked_by, line.booked_at = booked_by, timezone.now()
            line.save(update_fields=["payment", "booked_by", "booked_at"])
            return "booked"
        line.status, line.candidates = LineStatus.MATCHED, []
        line.save(update_fields=["payment", "status", "candidates"])
        return "already"


def statement_lines_book(
    *, lines: Iterable[StatementLine], booked_by=None, automatic: bool = False
) -> BookingSummary:
    """Book each of `lines` that is an unbooked statement-only line (statement_line_book),
    each in its own transaction; lines that are not are skipped with the reason."""
    summary = BookingSummary()
    for line_id in sorted({line.pk for line in lines}):
        outcome = statement_line_book(line_id=line_id, booked_by=booked_by, automatic=automatic)
        if outcome == "booked":
            summary.booked += 1
        elif outcome == "already":
            summary.already_booked += 1
        else:
            summary.skipped.append((line_id, outcome))
    return summary


def statement_lines_bookable(*, statement: BankStatement | None = None):
    """The unbooked statement-only lines (of `statement`, or of all statements)."""
    lines = StatementLine.objects.filter(status=LineStatus.STATEMENT_ONLY, payment__isnull=True)
    return lines.filter(statement=statement) if statement is not None else lines


def statements_rematch_open() -> int:
    """Match again every statement that has open lines: the periodic sweep for webhooks whose
    booking did not trigger a rematch."""
    statement_ids = (
        StatementLine.objects.filter(
            payment__isnull=True, status__in=[LineStatus.STATEMENT_ONLY, LineStatus.AMBIGUOUS]
        )
        .values_list("statement_id", flat=True)
        .distinct()
    )
    return statements_rematch(statement_ids=list(statement_ids))


def statements_rematch(*, statement_ids: Iterable[int]) -> int:
    """Match again the open lines of the given statements (those that exist)."""
    changed = 0
    for statement in BankStatement.objects.filter(pk__in=list(statement_ids)).order_by("id"):
        changed += statement_lines_match(statement=statement)
    return changed
