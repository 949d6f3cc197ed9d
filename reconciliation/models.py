from django.db import models


class ReportStatus(models.TextChoices):
    OK = "ok", "OK"
    DISCREPANCY = "discrepancy", "Discrepancy"


class ReconciliationReport(models.Model):
    """One run of the reconciliation: what the books said for a period, and whether they hold."""

    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ReportStatus.choices)
    # Every figure of the report, amounts as strings of their exact Decimal value.
    figures = models.JSONField()
    discrepancies = models.JSONField(default=list, blank=True)
    csv_file = models.FileField(upload_to="reconciliation/%Y/%m/", blank=True)
    xlsx_file = models.FileField(upload_to="reconciliation/%Y/%m/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("run_reconciliation", "Can run a reconciliation report")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="report_period_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Reconciliation {self.period_start:%Y-%m-%d}…{self.period_end:%Y-%m-%d}: {self.status}"
        )
