from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from common.dates import local_midnight, yesterday_bounds
from reconciliation.models import ReportStatus
from reconciliation.services import reconciliation_report_create


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Create a reconciliation report for [--from, --to) (dates, YYYY-MM-DD; --to exclusive). "
        "Defaults to yesterday. Exits with status 1 when the books show a discrepancy. "
        "--full re-reads the whole journal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first day of the period")
        parser.add_argument("--to", dest="end", help="day after the last day of the period")
        parser.add_argument(
            "--full",
            action="store_true",
            help="read every entry and line of the journal again, not only the period's",
        )

    def handle(self, *args, start=None, end=None, full=False, **options):
        if start is None:
            period_start, period_end = yesterday_bounds()
        else:
            period_start = local_midnight(_day(start))
            period_end = local_midnight(_day(end) if end else _day(start) + timedelta(days=1))
        if end is not None and start is None:
            period_end = local_midnight(_day(end))
        if period_end <= period_start:
            raise CommandError("--to must be after --from.")
        report = reconciliation_report_create(
            period_start=period_start, period_end=period_end, full=full
        )
        self.stdout.write(f"Report #{report.pk}: {report.status} ({report.csv_file.name})")
        for item in report.discrepancies:
            self.stdout.write(f"  {item['check']}: {item['rows']}")
        if report.status == ReportStatus.DISCREPANCY:
            raise SystemExit(1)
