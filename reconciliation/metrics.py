"""The last reconciliation report on /metrics, read from the database at scrape time."""

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from reconciliation.models import ReportStatus
from reconciliation.selectors import reconciliation_report_latest


class LastReconciliationCollector(Collector):
    def collect(self):
        report = reconciliation_report_latest()
        status = GaugeMetricFamily(
            "bank_webhook_reconciliation_last_status",
            "1 for the status of the last reconciliation report, 0 for the others "
            "(all 0 before the first report).",
            labels=["status"],
        )
        for choice in ReportStatus.values:
            status.add_metric([choice], 1 if report and report.status == choice else 0)
        yield status
        yield GaugeMetricFamily(
            "bank_webhook_reconciliation_last_timestamp_seconds",
            "When the last reconciliation report was made (Unix time; 0 before the first).",
            value=report.created_at.timestamp() if report else 0,
        )
        yield GaugeMetricFamily(
            "bank_webhook_reconciliation_last_discrepancies",
            "Discrepancies the last reconciliation report found.",
            value=len(report.discrepancies or []) if report else 0,
        )
