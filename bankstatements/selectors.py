"""Reads of bank statements: which statement counts for a day, and what it shows.

For each day the statement that counts is the latest imported one whose period covers it
(a later statement for the same days is a newer version). A line *is current* when its
statement is the one that counts for the line's day; reports and bookings look only at
current lines.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from bankstatements.models import BankStatement, LineDirection, LineStatus, StatementLine
from common.dates import day_bounds
from webhooks.models import Payment
from webhooks.selectors import payments_from_webhooks_received


def statements_covering(*, first: date, last: date) -> dict[date, int]:
    """{day: id of the statement that counts for it} for the covered days in [first, last]."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT ON (d.day) d.day, s.id
              FROM bankstatements_bankstatement s
             CROSS JOIN LATERAL (
                   SELECT g::date AS day
                     FROM generate_series(greatest(s.period_start, %(first)s),
                                          least(s.period_end, %(last)s), interval '1 day') g) d
             WHERE s.period_start <= %(last)s AND s.period_end >= %(first)s
             ORDER BY d.day, s.id DESC
            """,
            {"first": first, "last": last},
        )
        return dict(cursor.fetchall())


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def statement_current_days(*, statement: BankStatement) -> list[date]:
    """The days of `statement`'s period for which it is the statement that counts."""
    covering = statements_covering(first=statement.period_start, last=statement.period_end)
    return [day for day, statement_id in sorted(covering.items()) if statement_id == statement.pk]


def statement_line_is_current(*, line: StatementLine) -> bool:
    covering = statements_covering(first=line.day, last=line.day)
    return covering.get(line.day) == line.statement_id


def current_lines(*, first: date, last: date):
    """The current lines of the days [first, last], with their statement and payment."""
    covering = statements_covering(first=first, last=last)
    by_statement: dict[int, list[date]] = defaultdict(list)
    for day, statement_id in covering.items():
        by_statement[statement_id].append(day)
    lines = []
    for statement_id, days in by_statement.items():
        for line in StatementLine.objects.filter(statement_id=statement_id).select_related(
            "payment", "statement"
        ):
            if line.day in days:
                lines.append(line)
    return sorted(lines, key=lambda line: (line.day, line.statement_id, line.position))


def _local_day(moment) -> date:
    return timezone.localtime(moment).date()


def webhook_only_payments(*, days: list[date]) -> list[Payment]:
    """Payments booked by webhook on the given days (by the day they arrived) that no
    current statement line shows."""
    if not days:
        return []
    wanted = set(days)
    start, end = day_bounds(min(days), max(days))
    arrived = [
        payment
        for payment in payments_from_webhooks_received(start=start, end=end).order_by("id")
        if _local_day(payment.received_at) in wanted
    ]
    lines = list(StatementLine.objects.filter(payment_id__in=[p.pk for p in arrived]))
    shown = set()
    if lines:
        covering = statements_covering(
            first=min(line.day for line in lines), last=max(line.day for line in lines)
        )
        shown = {line.payment_id for line in lines if covering.get(line.day) == line.statement_id}
    return [payment for payment in arrived if payment.pk not in shown]


@dataclass
class StatusFigures:
    count: int = 0
    total: Decimal = Decimal(0)

    def add(self, amount: Decimal) -> None:
        self.count += 1
        self.total += amount


@dataclass
class TotalsCheck:
    """One СекцияРасчСчет's ВсегоПоступило against the incoming lines of its days."""

    start: date
    end: date
    stated: Decimal
    lines: Decimal

    @property
    def ok(self) -> bool:
        return self.stated == self.lines


@dataclass
class StatementSummary:
    statement: BankStatement
    current_days: list[date]
    figures: dict[str, StatusFigures] = field(default_factory=dict)
    unbooked: list[StatementLine] = field(default_factory=list)
    ambiguous: list[StatementLine] = field(default_factory=list)
    webhook_only: list[Payment] = field(default_factory=list)
    totals: list[TotalsCheck] = field(default_factory=list)

    @property
    def superseded(self) -> bool:
        return not self.current_days

    @property
    def totals_ok(self) -> bool:
        return all(check.ok for check in self.totals)

    @property
    def open_items(self) -> bool:
        return bool(self.unbooked or self.webhook_only or not self.totals_ok)

    @property
    def status(self) -> str:
        if self.superseded:
            return "superseded"
        if self.open_items:
            return "open items"
        if self.ambiguous:
            return "ambiguous lines"
        return "reconciled"


FIGURE_NAMES = ["matched", "statement_only_booked", "statement_only_unbooked", "ambiguous",
                "outgoing", "webhook_only"]  # fmt: skip


def _figure_name(line: StatementLine) -> str:
    if line.status == LineStatus.STATEMENT_ONLY:
        return "statement_only_booked" if line.booked else "statement_only_unbooked"
    return line.status


def totals_checks(*, statement: BankStatement, lines) -> list[TotalsCheck]:
    """Each section's ВсегоПоступило against the statement's incoming lines of its days."""
    checks = []
    for section in statement.sections:
        start, end = date.fromisoformat(section["start"]), date.fromisoformat(section["end"])
        received = sum(
            (
                line.amount
                for line in lines
                if line.direction == LineDirection.INCOMING and start <= line.day <= end
            ),
            Decimal(0),
        )
        checks.append(TotalsCheck(start, end, Decimal(section["received"]), received))
    return checks


def statement_summary_get(*, statement: BankStatement) -> StatementSummary:
    """Counts and sums per status of `statement`'s lines, its open items and totals checks.

    Open items (unbooked statement-only lines, webhook-only payments) count only for the days
    the statement is current for; the totals are the statement's own, whatever its version.
    """
    days = statement_current_days(statement=statement)
    summary = StatementSummary(statement, days, {name: StatusFigures() for name in FIGURE_NAMES})
    lines = list(statement.lines.select_related("payment").order_by("position"))
    for line in lines:
        summary.figures[_figure_name(line)].add(line.amount)
        if line.day in days and line.status == LineStatus.STATEMENT_ONLY and not line.booked:
            summary.unbooked.append(line)
        if line.day in days and line.status == LineStatus.AMBIGUOUS:
            summary.ambiguous.append(line)
    summary.webhook_only = webhook_only_payments(days=days)
    for payment in summary.webhook_only:
        summary.figures["webhook_only"].add(payment.amount.amount)
    summary.totals = totals_checks(statement=statement, lines=lines)
    return summary


@dataclass
class DayReport:
    day: date
    statement: BankStatement | None
    figures: dict[str, StatusFigures] = field(default_factory=dict)
    unmatched: list[StatementLine] = field(default_factory=list)
    webhook_only: list[Payment] = field(default_factory=list)
    totals: list[TotalsCheck] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.statement is not None


def bank_statement_days_get(*, first: date, last: date, uncovered: bool = True) -> list[DayReport]:
    """For each day of [first, last] (only the covered ones unless `uncovered`): the
    statement that counts for it (None when none does), counts and sums per status of its
    lines of that day, the lines that are not matched, the webhook-only payments, and the
    totals of the statement's sections that cover the day."""
    covering = statements_covering(first=first, last=last)
    statements = BankStatement.objects.in_bulk(set(covering.values()))
    lines_by_day: dict[date, list[StatementLine]] = defaultdict(list)
    all_lines: dict[int, list[StatementLine]] = {}
    for statement_id in statements:
        all_lines[statement_id] = list(
            StatementLine.objects.filter(statement_id=statement_id).select_related("payment")
        )
        for line in all_lines[statement_id]:
            if covering.get(line.day) == statement_id:
                lines_by_day[line.day].append(line)
    webhook_only = defaultdict(list)
    for payment in webhook_only_payments(days=list(covering)):
        webhook_only[_local_day(payment.received_at)].append(payment)
    reports = []
    for day in _days(first, last) if uncovered else sorted(covering):
        statement = statements.get(covering.get(day))
        report = DayReport(day, statement, {name: StatusFigures() for name in FIGURE_NAMES})
        if statement is not None:
            for line in sorted(lines_by_day[day], key=lambda line: line.position):
                report.figures[_figure_name(line)].add(line.amount)
                if line.status not in (LineStatus.MATCHED, LineStatus.OUTGOING):
                    report.unmatched.append(line)
            report.webhook_only = webhook_only[day]
            for payment in report.webhook_only:
                report.figures["webhook_only"].add(payment.amount.amount)
            report.totals = [
                check
                for check in totals_checks(statement=statement, lines=all_lines[statement.pk])
                if check.start <= day <= check.end
            ]
        reports.append(report)
    return reports
