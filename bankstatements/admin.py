"""The accountants' Statements pages: import with a preview, each statement's lines linked
to their payments, booking what the webhooks missed, and the webhook-only payments.

Everything goes through bankstatements.services; statements and their lines are never
edited here.
"""

import base64
import hashlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from bankstatements.exceptions import StatementRefused
from bankstatements.models import BankStatement, LineStatus, StatementLine, StatementSource
from bankstatements.selectors import statement_summary_get, webhook_only_payments
from bankstatements.services import (
    MAX_STATEMENT_BYTES,
    bank_statement_import,
    statement_lines_book,
    statement_lines_bookable,
    statements_rematch,
)
from common.admin_tools import ReadOnlyAdminMixin, admin_link, local_time

_STATUS_COLOURS = {
    LineStatus.MATCHED: "#1a7f37",
    LineStatus.STATEMENT_ONLY: "#cf222e",
    LineStatus.AMBIGUOUS: "#9a6700",
    LineStatus.OUTGOING: "#57606a",
}
_SUMMARY_COLOURS = {"reconciled": "#1a7f37", "open items": "#cf222e",
                    "ambiguous lines": "#9a6700", "superseded": "#57606a"}  # fmt: skip
# What the statement's summary status is called on the pages.
SUMMARY_LABELS = {
    "reconciled": _("Reconciled"),
    "open items": _("Open items"),
    "ambiguous lines": _("Ambiguous lines"),
    "superseded": _("Superseded"),
}
_SESSION_KEY = "bankstatements.upload"


def line_status_badge(line: StatementLine):
    label, colour = line.get_status_display(), _STATUS_COLOURS.get(line.status, "#000")
    if line.booked:
        label, colour = _("%(status)s, booked") % {"status": label}, "#0969da"
    return format_html('<strong style="color:{}">{}</strong>', colour, label)


def _booking_messages(request, summary) -> None:
    if summary.booked:
        messages.success(
            request,
            _("Booked %(count)s statement-only line(s) as payments.") % {"count": summary.booked},
        )
    if summary.already_booked:
        messages.info(
            request,
            _(
                "%(count)s line(s) already had a payment (a webhook booked it): "
                "linked to it, nothing booked."
            )
            % {"count": summary.already_booked},
        )
    for line_id, why in summary.skipped:
        messages.warning(
            request, _("Line #%(line)s not booked: %(why)s.") % {"line": line_id, "why": why}
        )
    if not (summary.booked or summary.already_booked or summary.skipped):
        messages.info(request, _("No statement-only lines to book."))


def import_result_text(result) -> str:
    """What an import (or its preview) did, in the active language."""
    counts = result.counts
    figures = _(
        "%(matched)s matched, %(statement_only)s statement only, %(ambiguous)s ambiguous, "
        "%(outgoing)s outgoing"
    ) % {
        "matched": counts.get(LineStatus.MATCHED, 0),
        "statement_only": counts.get(LineStatus.STATEMENT_ONLY, 0),
        "ambiguous": counts.get(LineStatus.AMBIGUOUS, 0),
        "outgoing": counts.get(LineStatus.OUTGOING, 0),
    }
    if result.statement is None:  # the preview of a new file
        return _("Dry run, nothing stored. %(figures)s") % {"figures": figures}
    if not result.created:
        return _("Already imported as %(statement)s on %(when)s; nothing changed.") % {
            "statement": result.statement,
            "when": local_time(result.statement.imported_at, short=True),
        }
    text = _("Imported. %(statement)s: %(figures)s") % {
        "statement": result.statement,
        "figures": figures,
    }
    if result.booked:
        text += "; " + _("%(count)s booked automatically") % {"count": result.booked}
    return text


class StatementUploadForm(forms.Form):
    file = forms.FileField(help_text=_("1CClientBankExchange (kl_to_1c.txt), versions 1.01–1.03."))


@admin.register(BankStatement)
class BankStatementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "period", "version", "imported", "status_badge", "line_counts",
                    "totals_badge", "file_link"]  # fmt: skip
    list_filter = ["source", "period_start"]
    search_fields = ["sha256", "file_name"]
    date_hierarchy = "period_start"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="bankstatements_import"),
            path("webhook-only/", view(self.webhook_only_view), name="bankstatements_webhook_only"),
            path("<int:pk>/download/", view(self.download_view), name="bankstatements_download"),
            path("<int:pk>/book/", view(self.book_all_view), name="bankstatements_book_all"),
            path("<int:pk>/match/", view(self.match_view), name="bankstatements_match"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        can_import = request.user.has_perm("bankstatements.import_bankstatement")
        return super().changelist_view(request, {**(extra_context or {}), "can_import": can_import})

    def _summary(self, obj):
        # Computed once per row of the page; kept on the row's object, not on the admin,
        # which every request shares.
        if not hasattr(obj, "_summary"):
            obj._summary = statement_summary_get(statement=obj)
        return obj._summary

    @admin.display(description=_("Period"), ordering="period_start")
    def period(self, obj):
        if obj.period_start == obj.period_end:
            return f"{obj.period_start:%d.%m.%Y}"
        return f"{obj.period_start:%d.%m.%Y}–{obj.period_end:%d.%m.%Y}"

    @admin.display(description=_("Imported"), ordering="imported_at")
    def imported(self, obj):
        who = obj.imported_by.get_username() if obj.imported_by else obj.get_source_display()
        return f"{timezone.localtime(obj.imported_at):%d.%m.%Y %H:%M} ({who})"

    @admin.display(description=_("Status"))
    def status_badge(self, obj):
        status = self._summary(obj).status
        return format_html(
            '<strong style="color:{}">{}</strong>', _SUMMARY_COLOURS[status], SUMMARY_LABELS[status]
        )

    @admin.display(description=_("Matched · statement only (to book) · ambiguous · webhook only"))
    def line_counts(self, obj):
        figures = self._summary(obj).figures
        to_book = figures["statement_only_unbooked"].count
        return format_html(
            "{} · {} ({}) · {} · {}",
            figures["matched"].count,
            figures["statement_only_booked"].count + to_book,
            to_book,
            figures["ambiguous"].count,
            figures["webhook_only"].count,
        )

    @admin.display(description=_("Totals"))
    def totals_badge(self, obj):
        if self._summary(obj).totals_ok:
            return format_html('<span style="color:#1a7f37">{}</span>', _("agree"))
        return format_html('<strong style="color:#cf222e">{}</strong>', _("mismatch"))

    @admin.display(description=_("File"))
    def file_link(self, obj):
        url = reverse("admin:bankstatements_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.file_name or _("statement"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        statement = get_object_or_404(BankStatement, pk=object_id)
        summary = statement_summary_get(statement=statement)
        lines = list(statement.lines.select_related("payment", "booked_by").order_by("position"))
        for line in lines:
            line.badge = line_status_badge(line)
            line.payment_link = admin_link(line.payment, f"#{line.payment_id}")
            line.current = line.day in summary.current_days
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(statement),
            "statement": statement,
            "summary": summary,
            "status_label": SUMMARY_LABELS[summary.status],
            "lines": lines,
            "webhook_only": [(p, admin_link(p, f"#{p.pk}")) for p in summary.webhook_only],
            "supersedes": list(statement.supersedes.all()),
            "superseded_by": list(statement.superseded_by.all()),
            "can_book": request.user.has_perm("bankstatements.book_statementline"),
        }
        return render(request, "admin/bankstatements/bankstatement/detail.html", context)

    def download_view(self, request, pk: int):
        """The original file, streamed to staff: storage objects are private."""
        if not self.has_view_permission(request):
            raise Http404
        statement = get_object_or_404(BankStatement, pk=pk)
        if not statement.file:
            raise Http404
        return FileResponse(
            statement.file.open("rb"),
            as_attachment=True,
            filename=statement.file_name or f"statement-{statement.pk}.txt",
        )

    def book_all_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("bankstatements.book_statementline"):
            raise PermissionDenied
        statement = get_object_or_404(BankStatement, pk=pk)
        summary = statement_lines_book(
            lines=statement_lines_bookable(statement=statement), booked_by=request.user
        )
        _booking_messages(request, summary)
        return redirect("admin:bankstatements_bankstatement_change", pk)

    def match_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("bankstatements.import_bankstatement"):
            raise PermissionDenied
        changed = statements_rematch(statement_ids=[pk])
        messages.info(request, _("Matched again: %(count)s line(s) changed.") % {"count": changed})
        return redirect("admin:bankstatements_bankstatement_change", pk)

    def webhook_only_view(self, request):
        """Payments of covered days that no statement shows, for follow-up (never reversed
        automatically)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = sorted(
            {
                day
                for statement in BankStatement.objects.all()[:200]
                for day in statement_summary_get(statement=statement).current_days
            }
        )
        payments = [(p, admin_link(p, f"#{p.pk}")) for p in webhook_only_payments(days=days)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Webhook-only payments: booked, but no bank statement shows them"),
            "payments": payments,
        }
        return render(request, "admin/bankstatements/bankstatement/webhook_only.html", context)

    def import_view(self, request):
        """Upload, preview (a dry run: what would match, nothing stored), then import."""
        if not request.user.has_perm("bankstatements.import_bankstatement"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a bank statement"),
        }
        if request.method == "POST" and request.POST.get("confirm"):
            return self._import_confirmed(request)
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_STATEMENT_BYTES:
                form.add_error(
                    "file",
                    _("The file is larger than %(size)s bytes.") % {"size": MAX_STATEMENT_BYTES},
                )
            else:
                content = upload.read()
                try:
                    preview = bank_statement_import(
                        content=content,
                        file_name=upload.name,
                        source=StatementSource.ADMIN,
                        imported_by=request.user,
                        dry_run=True,
                    )
                except StatementRefused as exc:
                    form.add_error("file", _("Refused, nothing stored: %(why)s") % {"why": exc})
                else:
                    digest = hashlib.sha256(content).hexdigest()
                    request.session[_SESSION_KEY] = {
                        "sha256": digest,
                        "name": upload.name,
                        "content": base64.b64encode(content).decode(),
                    }
                    for line in preview.lines:
                        line.badge = line_status_badge(line)
                        line.payment_link = admin_link(line.payment, f"#{line.payment_id}")
                    context.update(
                        preview=preview,
                        preview_message=import_result_text(preview),
                        sha256=digest,
                        file_name=upload.name,
                    )
        context["form"] = form
        return render(request, "admin/bankstatements/bankstatement/import.html", context)

    def _import_confirmed(self, request):
        upload = request.session.get(_SESSION_KEY)
        if not upload or upload["sha256"] != request.POST.get("sha256"):
            messages.error(request, _("The previewed file is gone; upload it again."))
            return redirect("admin:bankstatements_import")
        content = base64.b64decode(upload["content"])
        try:
            result = bank_statement_import(
                content=content,
                file_name=upload["name"],
                source=StatementSource.ADMIN,
                imported_by=request.user,
            )
        except StatementRefused as exc:  # the settings changed since the preview
            messages.error(request, _("Refused, nothing stored: %(why)s") % {"why": exc})
            return redirect("admin:bankstatements_import")
        del request.session[_SESSION_KEY]
        (messages.success if result.created else messages.info)(request, import_result_text(result))
        return redirect("admin:bankstatements_bankstatement_change", result.statement.pk)


class BookedFilter(admin.SimpleListFilter):
    title = _("follow-up")
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [
            ("to_book", _("Statement only, not booked")),
            ("booked", _("Booked from statement")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "to_book":
            return queryset.filter(status=LineStatus.STATEMENT_ONLY, payment__isnull=True)
        if self.value() == "booked":
            return queryset.filter(status=LineStatus.STATEMENT_ONLY, payment__isnull=False)
        return queryset


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "statement_link", "position", "number", "document_date", "amount",
                    "payer_inn", "payer_name", "received_on", "status_badge",
                    "payment_link"]  # fmt: skip
    list_filter = [BookedFilter, "status", "direction", "received_on"]
    search_fields = ["number", "payer_inn", "payer_name", "purpose"]
    list_select_related = ["statement", "payment"]
    actions = ["book_selected"]

    @admin.display(description=_("Statement"), ordering="statement")
    def statement_link(self, obj):
        return admin_link(obj.statement, f"#{obj.statement_id}")

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj):
        return line_status_badge(obj)

    @admin.display(description=_("Payment"))
    def payment_link(self, obj):
        return admin_link(obj.payment, f"#{obj.payment_id}")

    def has_book_permission(self, request):
        return request.user.has_perm("bankstatements.book_statementline")

    @admin.action(
        description=_("Book selected statement-only lines as payments"), permissions=["book"]
    )
    def book_selected(self, request, queryset):
        _booking_messages(request, statement_lines_book(lines=queryset, booked_by=request.user))
