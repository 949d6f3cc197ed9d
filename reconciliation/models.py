from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    OK = "ok", _("OK")
    DISCREPANCY = "discrepancy", _("Discrepancy")


class ReconciliationReport(models.Model):
    """One run of the reconciliation: what the books said for a period, and whether they hold."""

    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices)
    # Every figure of the report, amounts as strings of their exact Decimal value.
    figures = models.JSONField(_("figures"))
    discrepancies = models.JSONField(_("discrepancies"), default=list, blank=True)
    csv_file = models.FileField(_("csv file"), upload_to="reconciliation/%Y/%m/", blank=True)
    xlsx_file = models.FileField(_("xlsx file"), upload_to="reconciliation/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reconciliation report")
        verbose_name_plural = _("reconciliation reports")
        ordering = ["-created_at"]
        permissions = [("run_reconciliation", _("Can run a reconciliation report"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="report_period_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Reconciliation %(start)s…%(end)s: %(status)s") % {
            "start": f"{self.period_start:%Y-%m-%d}",
            "end": f"{self.period_end:%Y-%m-%d}",
            "status": self.get_status_display(),
        }
