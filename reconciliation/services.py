"""The reconciliation report: proof, for a period, that the books are right."""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.selectors import suspense_credit_of, suspense_receipts_unallocated
from bankstatements.selectors import FIGURE_NAMES, bank_statement_days_get
from common.dates import yesterday_bounds
from common.db import snapshot
from common.exports import Sheet, csv_bytes, xlsx_bytes
from reconciliation.models import ReconciliationReport, ReportStatus
from reconciliation.selectors import (
    books_discrepancies,
    clearing_and_payments_totals,
    conflicting_deliveries,
    period_trial_balance,
)

logger = logging.getLogger(__name__)


UNCOVERED_DAYS_LISTED = 31


def _bank_statement_section(start: datetime, end: datetime) -> tuple[list[dict], list[dict]]:
    """Per day of the period (of a period longer than a month, per covered day): whether a
    bank statement covers it, counts and sums per
    status, the lines not matched, the webhook-only payments and the totals; and the
    discrepancies of covered days (unbooked statement-only lines, webhook-only payments,
    totals that differ from the lines)."""
    first = timezone.localtime(start).date()
    last = timezone.localtime(end - timedelta(microseconds=1)).date()
    days, unbooked, webhook_only, mismatches = [], [], [], []
    # A day or a month lists its uncovered days too; a longer period only the covered ones.
    listed = bank_statement_days_get(
        first=first, last=last, uncovered=(last - first).days < UNCOVERED_DAYS_LISTED
    )
    for report in listed:
        day = report.day.isoformat()
        statement = report.statement
        days.append(
            {
                "day": day,
                "covered": report.covered,
                "statement": statement.pk if statement else None,
                "version": statement.version if statement else None,
                "figures": {
                    name: {"count": f.count, "total": str(f.total)}
                    for name, f in report.figures.items()
                },
                "unmatched_lines": [
                    {
                        "line": line.pk, "statement": line.statement_id,
                        "position": line.position, "number": line.number,
                        "document_date": line.document_date.isoformat(),
                        "payer_inn": line.payer_inn, "amount": str(line.amount),
                        "status": line.status, "booked": line.booked,
                    }
                    for line in report.unmatched
                ],
                "webhook_only": [
                    {
                        "payment": p.pk, "operation_id": str(p.operation_id),
                        "document_number": p.document_number, "payer_inn": p.payer_inn,
                        "amount": str(p.amount.amount), "received_at": p.received_at.isoformat(),
                    }
                    for p in report.webhook_only
                ],
                "totals": [
                    {"start": c.start.isoformat(), "end": c.end.isoformat(),
                     "stated": str(c.stated), "lines": str(c.lines), "ok": c.ok}
                    for c in report.totals
                ],
            }
        )  # fmt: skip
        unbooked += [
            [day, line.statement_id, line.position, line.number, line.payer_inn, line.amount]
            for line in report.unmatched
            if line.status == "statement_only" and not line.booked
        ]
        webhook_only += [
            [day, p.pk, p.operation_id, p.payer_inn, p.amount.amount] for p in report.webhook_only
        ]
        mismatches += [
            [day, statement.pk, check.stated, check.lines]
            for check in report.totals
            if not check.ok
        ]
    discrepancies = [
        {"check": check, "rows": [list(map(str, row)) for row in rows]}
        for check, rows in (
            ("bank_statement_unbooked_lines", unbooked),
            ("bank_statement_webhook_only", webhook_only),
            ("bank_statement_totals_mismatch", mismatches),
        )
        if rows
    ]
    return days, discrepancies


def _collect(start: datetime, end: datetime, full: bool) -> tuple[dict, list[dict]]:
    """Every figure and every failed check, read from one snapshot of the database."""
    trial_balance = period_trial_balance(start=start, end=end)
    checked = {} if full else {"start": start, "end": end}
    discrepancies = [
        {"check": check, "rows": [list(map(str, row)) for row in rows]}
        for check, rows in books_discrepancies(**checked).items()
    ]
    total_closing = sum((row["closing"] for row in trial_balance), Decimal(0))
    if total_closing != 0:
        discrepancies.append(
            {"check": "period_trial_balance_not_zero", "rows": [[str(total_closing)]]}
        )
    bank_statement, statement_discrepancies = _bank_statement_section(start, end)
    discrepancies += statement_discrepancies
    period_clearing, period_payments = clearing_and_payments_totals(start=start, end=end)

    unidentified = [
        {
            "entry": entry.pk,
            "operation_id": entry.reference,
            "inn": entry.party,
            "posted_at": entry.posted_at.isoformat(),
            "amount": str(suspense_credit_of(entry=entry)),
        }
        for entry in _unallocated_of(start, end, full).prefetch_related("lines__account")
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
            **(_all_time_totals() if full else {}),
            "clearing_debits_period": str(period_clearing),
            "payments_period": str(period_payments),
        },
        "unidentified_receipts": unidentified,
        "conflicting_deliveries": conflicts,
        "bank_statement": bank_statement,
    }
    return figures, discrepancies


def _unallocated_of(start: datetime, end: datetime, full: bool):
    """The unidentified receipts still unallocated that the report lists: those posted in
    the period (every one with `full`), so that a day's report costs what the day holds.
    Their sum over all time is the closing balance of 76.UNID in the trial balance."""
    receipts = suspense_receipts_unallocated()
    return receipts if full else receipts.filter(posted_at__gte=start, posted_at__lt=end)


def _all_time_totals() -> dict[str, str]:
    clearing_total, payments_total = clearing_and_payments_totals()
    return {
        "clearing_debits_all_time": str(clearing_total),
        "payments_all_time": str(payments_total),
    }


def _read_snapshot(start: datetime, end: datetime, full: bool) -> tuple[dict, list[dict]]:
    with snapshot():
        return _collect(start, end, full)


def _csv(report: ReconciliationReport) -> bytes:
    """One table of (section, key, values...) rows: the whole report in one CSV file."""
    figures = report.figures
    rows = [
        ["report", "period_start", report.period_start.isoformat()],
        ["report", "period_end", report.period_end.isoformat()],
        ["report", "status", report.status],
        ["trial_balance", "code", "opening", "debit", "credit", "closing", "name"],
        *(
            ["trial_balance", r["code"], r["opening"], r["debit"], r["credit"], r["closing"],
             r["name"]]
            for r in figures["trial_balance"]
        ),
        *(["totals", key, value] for key, value in figures["totals"].items()),
        *(["discrepancy", item["check"], *row] for item in report.discrepancies
          for row in item["rows"]),
        *(["unidentified", i["operation_id"], i["inn"], i["amount"], i["posted_at"]]
          for i in figures["unidentified_receipts"]),
        *(["conflict", i["operation_id"], i["delivery"], i["received_at"]]
          for i in figures["conflicting_deliveries"]),
        *(["bank_statement", d["day"], "covered" if d["covered"] else "not covered",
           d["statement"] or "", name, d["figures"][name]["count"], d["figures"][name]["total"]]
          for d in figures.get("bank_statement", []) for name in FIGURE_NAMES),
        *(["statement_line", d["day"], line["status"] + (" booked" if line["booked"] else ""),
           line["statement"], line["number"], line["payer_inn"], line["amount"]]
          for d in figures.get("bank_statement", []) for line in d["unmatched_lines"]),
        *(["webhook_only", d["day"], p["operation_id"], p["payment"], p["document_number"],
           p["payer_inn"], p["amount"]]
          for d in figures.get("bank_statement", []) for p in d["webhook_only"]),
    ]  # fmt: skip
    headers = ["section", "key", "value_1", "value_2", "value_3", "value_4", "value_5"]
    # A data file with the figures' codes as keys, for programs (fixed format, in any
    # language); the XLSX is the accountants' copy.
    return csv_bytes(Sheet("report", headers, rows), for_excel=False)


def _xlsx(report: ReconciliationReport) -> bytes:
    """One sheet per section; amounts as numbers."""
    figures = report.figures
    summary = [
        [_("Period start"), report.period_start],
        [_("Period end"), report.period_end],
        [_("Status"), report.get_status_display()],
        *([key, Decimal(value)] for key, value in figures["totals"].items()),
    ]
    return xlsx_bytes(
        [
            Sheet(_("Summary"), [_("Figure"), _("Value")], summary),
            Sheet(
                _("Trial balance"),
                [_("Account"), _("Name"), _("Type"), _("Currency"), _("Opening"), _("Debit"),
                 _("Credit"), _("Closing")],
                (
                    [r["code"], r["name"], r["type"], r["currency"], Decimal(r["opening"]),
                     Decimal(r["debit"]), Decimal(r["credit"]), Decimal(r["closing"])]
                    for r in figures["trial_balance"]
                ),
            ),
            Sheet(
                _("Discrepancies"),
                [_("Check"), _("Details")],
                ([item["check"], *row] for item in report.discrepancies for row in item["rows"]),
            ),
            Sheet(
                _("Unidentified receipts"),
                [_("Operation"), _("INN"), _("Amount"), _("Posted at")],
                ([i["operation_id"], i["inn"], Decimal(i["amount"]), i["posted_at"]]
                 for i in figures["unidentified_receipts"]),
            ),
            Sheet(
                _("Conflicting repeats"),
                [_("Operation"), _("Delivery"), _("Received at"), _("Body")],
                ([i["operation_id"], i["delivery"], i["received_at"], i["body"]]
                 for i in figures["conflicting_deliveries"]),
            ),
            Sheet(
                _("Bank statement"),
                [_("Day"), _("Covered"), _("Statement"), _("Version"), _("Status"), _("Count"),
                 _("Sum")],
                ([d["day"], d["covered"], d["statement"], d["version"], name,
                  d["figures"][name]["count"], Decimal(d["figures"][name]["total"])]
                 for d in figures.get("bank_statement", []) for name in FIGURE_NAMES),
            ),
            Sheet(
                _("Statement follow-up"),
                [_("Day"), _("Kind"), _("Statement / payment"), _("Document"), _("INN"),
                 _("Amount"), _("Status")],
                [
                    *([d["day"], _("statement line"), line["statement"], line["number"],
                       line["payer_inn"], Decimal(line["amount"]),
                       line["status"] + (_(" booked") if line["booked"] else "")]
                      for d in figures.get("bank_statement", []) for line in d["unmatched_lines"]),
                    *([d["day"], _("webhook only"), p["payment"], p["document_number"],
                       p["payer_inn"], Decimal(p["amount"]), p["operation_id"]]
                      for d in figures.get("bank_statement", []) for p in d["webhook_only"]),
                ],
            ),
        ]
    )  # fmt: skip


def reconciliation_report_create(
    *, period_start: datetime, period_end: datetime, full: bool = False
) -> ReconciliationReport:
    """Recompute the books for [period_start, period_end) and store the report with its
    CSV and XLSX files in the default storage (S3-compatible when configured).

    The figures are read in one REPEATABLE READ snapshot, so postings that commit meanwhile
    cannot make totals disagree. A discrepancy is logged at ERROR level with what differs.
    The period's entries, payments and closed days are read again line by line, and every
    cached balance is checked against the closed days' totals and the lines since: the cost
    follows the period's volume. `full` reads every entry and line of the journal instead,
    and adds the all-time totals of bank clearing and payments.
    """
    if period_end <= period_start:
        raise ValueError("The period must end after it starts.")
    figures, discrepancies = _read_snapshot(period_start, period_end, full)
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


def reconciliation_report_create_for_yesterday() -> ReconciliationReport:
    """The scheduled daily report: yesterday, in the service's time zone."""
    start, end = yesterday_bounds()
    return reconciliation_report_create(period_start=start, period_end=end)
