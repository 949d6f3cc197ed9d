"""The reconciliation report: proof, for a period, that the books are right."""

import csv
import io
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from openpyxl import Workbook

from accounting.models import UNIDENTIFIED_RECEIPTS_CODE, Side
from accounting.selectors import ledger_discrepancies, suspense_receipts_unallocated
from reconciliation.models import ReconciliationReport, ReportStatus
from reconciliation.selectors import (
    clearing_and_payments_totals,
    conflicting_deliveries,
    payment_entries_without_payment,
    payments_not_matching_their_entry,
    period_trial_balance,
)

logger = logging.getLogger(__name__)


def yesterday_period(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start of yesterday, start of today) in the configured time zone."""
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=1), today


def _suspense_credit(entry) -> Decimal:
    """What the entry credited to unidentified receipts (lines prefetched with accounts)."""
    return sum(
        (
            line.amount.amount
            for line in entry.lines.all()
            if line.account.code == UNIDENTIFIED_RECEIPTS_CODE and line.side == Side.CREDIT
        ),
        Decimal(0),
    )


def _collect(start: datetime, end: datetime) -> tuple[dict, list[dict]]:
    """Every figure and every failed check, read from one snapshot of the database."""
    trial_balance = period_trial_balance(start=start, end=end)
    discrepancies: list[dict] = []

    for check, rows in ledger_discrepancies().items():
        discrepancies.append({"check": check, "rows": [list(map(str, row)) for row in rows]})
    total_closing = sum((row["closing"] for row in trial_balance), Decimal(0))
    if total_closing != 0:
        discrepancies.append({"check": "trial_balance_not_zero", "rows": [[str(total_closing)]]})
    mismatched = payments_not_matching_their_entry()
    if mismatched:
        discrepancies.append(
            {"check": "payment_entry_mismatch", "rows": [list(map(str, r)) for r in mismatched]}
        )
    orphans = payment_entries_without_payment()
    if orphans:
        discrepancies.append(
            {"check": "payment_entry_without_payment", "rows": [list(map(str, r)) for r in orphans]}
        )
    clearing_total, payments_total = clearing_and_payments_totals()
    if clearing_total != payments_total:
        discrepancies.append(
            {
                "check": "clearing_differs_from_payments",
                "rows": [[str(clearing_total), str(payments_total)]],
            }
        )
    period_clearing, period_payments = clearing_and_payments_totals(start=start, end=end)

    unidentified = [
        {
            "entry": entry.pk,
            "operation_id": entry.reference,
            "inn": entry.party,
            "posted_at": entry.posted_at.isoformat(),
            "amount": str(_suspense_credit(entry)),
        }
        for entry in suspense_receipts_unallocated().prefetch_related("lines__account")
    ]
    conflicts = [
        {"delivery": d_id, "operation_id": op, "received_at": at.isoformat(), "body": body}
        for d_id, op, at, body in conflicting_deliveries(start=start, end=end)
    ]
    figures = {
        "trial_balance": [
            {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}
            for row in trial_balance
        ],
        "totals": {
            "period_debit": str(sum((r["debit"] for r in trial_balance), Decimal(0))),
            "period_credit": str(sum((r["credit"] for r in trial_balance), Decimal(0))),
            "closing_balance": str(total_closing),
            "clearing_debits_all_time": str(clearing_total),
            "payments_all_time": str(payments_total),
            "clearing_debits_period": str(period_clearing),
            "payments_period": str(period_payments),
        },
        "unidentified_receipts": unidentified,
        "conflicting_deliveries": conflicts,
    }
    return figures, discrepancies


def _read_snapshot(start: datetime, end: datetime) -> tuple[dict, list[dict]]:
    if connection.in_atomic_block:
        return _collect(start, end)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _collect(start, end)


def _csv(report: ReconciliationReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value_1", "value_2", "value_3", "value_4", "value_5"])
    writer.writerow(["report", "period_start", report.period_start.isoformat()])
    writer.writerow(["report", "period_end", report.period_end.isoformat()])
    writer.writerow(["report", "status", report.status])
    writer.writerow(["trial_balance", "code", "opening", "debit", "credit", "closing", "name"])
    for row in report.figures["trial_balance"]:
        writer.writerow(
            ["trial_balance", row["code"], row["opening"], row["debit"], row["credit"],
             row["closing"], row["name"]]
        )  # fmt: skip
    for key, value in report.figures["totals"].items():
        writer.writerow(["totals", key, value])
    for item in report.discrepancies:
        for row in item["rows"]:
            writer.writerow(["discrepancy", item["check"], *row])
    for item in report.figures["unidentified_receipts"]:
        writer.writerow(
            ["unidentified", item["operation_id"], item["inn"], item["amount"], item["posted_at"]]
        )
    for item in report.figures["conflicting_deliveries"]:
        writer.writerow(["conflict", item["operation_id"], item["delivery"], item["received_at"]])
    return out.getvalue().encode()


def _xlsx(report: ReconciliationReport) -> bytes:
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(["Period start", report.period_start.replace(tzinfo=None)])
    summary.append(["Period end", report.period_end.replace(tzinfo=None)])
    summary.append(["Status", report.get_status_display()])
    for key, value in report.figures["totals"].items():
        summary.append([key, Decimal(value)])
    sheet = book.create_sheet("Trial balance")
    sheet.append(["Account", "Name", "Type", "Currency", "Opening", "Debit", "Credit", "Closing"])
    for row in report.figures["trial_balance"]:
        sheet.append(
            [row["code"], row["name"], row["type"], row["currency"], Decimal(row["opening"]),
             Decimal(row["debit"]), Decimal(row["credit"]), Decimal(row["closing"])]
        )  # fmt: skip
    sheet = book.create_sheet("Discrepancies")
    sheet.append(["Check", "Details"])
    for item in report.discrepancies:
        for row in item["rows"]:
            sheet.append([item["check"], *row])
    sheet = book.create_sheet("Unidentified receipts")
    sheet.append(["Operation", "INN", "Amount", "Posted at"])
    for item in report.figures["unidentified_receipts"]:
        sheet.append(
            [item["operation_id"], item["inn"], Decimal(item["amount"]), item["posted_at"]]
        )
    sheet = book.create_sheet("Conflicting repeats")
    sheet.append(["Operation", "Delivery", "Received at", "Body"])
    for item in report.figures["conflicting_deliveries"]:
        sheet.append([item["operation_id"], item["delivery"], item["received_at"], item["body"]])
    for ws in book.worksheets:
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reconciliation_report_create(
    *, period_start: datetime, period_end: datetime
) -> ReconciliationReport:
    """Recompute the books for [period_start, period_end) and store the report with its
    CSV and XLSX files in the default storage (S3-compatible when configured).

    The figures are read in one REPEATABLE READ snapshot, so postings that commit meanwhile
    cannot make totals disagree. A discrepancy is logged at ERROR level with what differs.
    """
    if period_end <= period_start:
        raise ValueError("The period must end after it starts.")
    figures, discrepancies = _read_snapshot(period_start, period_end)
    report = ReconciliationReport(
        period_start=period_start,
        period_end=period_end,
        status=ReportStatus.DISCREPANCY if discrepancies else ReportStatus.OK,
        figures=figures,
        discrepancies=discrepancies,
    )
    stem = f"reconciliation-{period_start:%Y%m%d}-{period_end:%Y%m%d}"
    report.csv_file.save(f"{stem}.csv", ContentFile(_csv(report)), save=False)
    report.xlsx_file.save(f"{stem}.xlsx", ContentFile(_xlsx(report)), save=False)
    report.save()
    if discrepancies:
        logger.error(
            "Reconciliation %s..%s: DISCREPANCY %s",
            period_start.isoformat(),
            period_end.isoformat(),
            "; ".join(f"{d['check']}: {d['rows']}" for d in discrepancies),
        )
    else:
        logger.info("Reconciliation %s..%s: OK", period_start.isoformat(), period_end.isoformat())
    return report
