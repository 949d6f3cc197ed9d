from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from common.dates import yesterday_bounds
from reconciliation.models import ReconciliationReport, ReportStatus
from reconciliation.tasks import reconciliation_report_create_task

_FILES = {"csv": "csv_file", "xlsx": "xlsx_file"}

# The home page opens with what needs attention (templatetags/attention.py): this app reads
# every other, so the panel lives here.
admin.site.index_template = "admin/attention_index.html"


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "period_start", "period_end", "status_badge", "files"]
    list_filter = ["status"]
    date_hierarchy = "created_at"
    fields = ["period_start", "period_end", "status", "discrepancies", "figures", "files",
              "created_at"]  # fmt: skip
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        can_run = request.user.has_perm("reconciliation.run_reconciliation")
        return super().changelist_view(request, {**(extra_context or {}), "can_run": can_run})

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(self.run_now), name="reconciliation_run_now"),
            path(
                "<int:pk>/download/<str:kind>/",
                self.admin_site.admin_view(self.download),
                name="reconciliation_download",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj):
        colour = "#1a7f37" if obj.status == ReportStatus.OK else "#cf222e"
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description=_("Files"))
    def files(self, obj):
        links = [
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:reconciliation_download", args=[obj.pk, kind]),
                kind.upper(),
            )
            for kind, field in _FILES.items()
            if getattr(obj, field)
        ]
        return format_html(" · ".join(["{}"] * len(links)), *links) if links else "-"

    def download(self, request, pk: int, kind: str):
        """Stream a report file to staff; storage objects are private (no public URLs)."""
        if not self.has_view_permission(request) or kind not in _FILES:
            raise Http404
        report = get_object_or_404(ReconciliationReport, pk=pk)
        file = getattr(report, _FILES[kind])
        if not file:
            raise Http404
        name = file.name.rsplit("/", 1)[-1]
        return FileResponse(file.open("rb"), as_attachment=True, filename=name)

    def run_now(self, request):
        """Queue a report for yesterday and today so far."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("reconciliation.run_reconciliation"):
            raise PermissionDenied
        start, _end = yesterday_bounds()
        end = timezone.now()
        try:
            reconciliation_report_create_task.delay(start.isoformat(), end.isoformat())
            messages.success(request, _("Reconciliation queued; the report appears here shortly."))
        except Exception:  # the broker is unreachable: run it here instead
            report_id = reconciliation_report_create_task(start.isoformat(), end.isoformat())
            messages.warning(
                request,
                _("Broker unavailable; report #%(id)s created directly.") % {"id": report_id},
            )
        return redirect("admin:reconciliation_reconciliationreport_changelist")
