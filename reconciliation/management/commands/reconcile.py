from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reconciliation.models import ReportStatus
from reconciliation.services import reconciliation_report_create, yesterday_period


def _day_start(value: str) -> datetime:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc
    return timezone.make_aware(datetime.combine(day, time.min))


class Command(BaseCommand):
    help = (
        "Create a reconciliation report for [--from, --to) (dates, YYYY-MM-DD; --to exclusive). "
        "Defaults to yesterday. Exits with status 1 when the books show a discrepancy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first day of the period")
        parser.add_argument("--to", dest="end", help="day after the last day of the period")

    def handle(self, *args, start=None, end=None, **options):
        default_start, default_end = yesterday_period()
        period_start = _day_start(start) if start else default_start
        period_end = (
            _day_start(end) if end else (period_start + timedelta(days=1) if start else default_end)
        )
        if period_end <= period_start:
            raise CommandError("--to must be after --from.")
        report = reconciliation_report_create(period_start=period_start, period_end=period_end)
        self.stdout.write(f"Report #{report.pk}: {report.status} ({report.csv_file.name})")
        for item in report.discrepancies:
            self.stdout.write(f"  {item['check']}: {item['rows']}")
        if report.status == ReportStatus.DISCREPANCY:
            raise SystemExit(1)
