"""The journal: review entries, reverse them, reclassify unidentified receipts, export.

Nothing posted is ever edited here: corrections are new entries, posted through the
accounting services with the acting user and a reason.
"""

from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.contrib.postgres.aggregates import StringAgg
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, DecimalField, OuterRef, Q, Subquery, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounting.admin.filters import AccountFilter, PostedRangeFilter, ReversalStateFilter
from accounting.admin.forms import ReclassifyForm, ReverseForm
from accounting.chart import UNIDENTIFIED_RECEIPTS
from accounting.exceptions import LedgerError
from accounting.models import BALANCE_MAX_DIGITS, EntryKind, JournalEntry, JournalLine, Side
from accounting.selectors import (
    journal_entries_with_corrections,
    journal_entry_reclassifiable,
    journal_entry_reversible,
)
from accounting.services import journal_entry_reclassify, journal_entry_reverse
from common.admin_tools import (
    LINE_BREAK,
    LargeTablePaginator,
    OperationIdSearchMixin,
    ReadOnlyAdminMixin,
    admin_link,
    amount,
    local_time,
)
from common.exports import table_response


class JournalLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JournalLine
    fields = ["account", "debit_amount", "credit_amount"]
    readonly_fields = fields
    extra = 0

    class Media:
        css = {"all": ["accounting/admin.css"]}

    @admin.display(description=_("Debit"))
    def debit_amount(self, line):
        return amount(line.amount.amount) if line.side == Side.DEBIT else ""

    @admin.display(description=_("Credit"))
    def credit_amount(self, line):
        return amount(line.amount.amount) if line.side == Side.CREDIT else ""


_MONEY = DecimalField(max_digits=BALANCE_MAX_DIGITS, decimal_places=2)

JOURNAL_EXPORT_HEADERS = [
    _("entry"), _("posted_at"), _("document_date"), _("kind"), _("memo"), _("reference"),
    _("inn"), _("total"), _("debit_accounts"), _("credit_accounts"), _("reverses"),
    _("reversed_by"), _("reason"), _("created_by"),
]  # fmt: skip


@admin.register(JournalEntry)
class JournalEntryAdmin(OperationIdSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The journal. Apps whose records are booked as entries (webhooks: payments and their
    deliveries) extend it by subclassing and re-registering: they override `document_of`
    and `entries_of_operation`, and add their own panels to `source_fields`."""

    list_display = [
        "id", "posted", "document_date", "kind", "memo", "reference_display", "total",
        "accounts", "state",
    ]  # fmt: skip
    list_filter = [PostedRangeFilter, "kind", AccountFilter, ReversalStateFilter]
    search_fields = ["reference", "memo", "party"]
    search_help_text = _("Operation id, document number, INN, or an exact amount (1234.56).")
    inlines = [JournalLineInline]
    list_per_page = 50
    # A page costs the same on a journal of millions of entries: no full COUNT(*) (see
    # LargeTablePaginator), no date_hierarchy (its distinct years read the whole table; the
    # date range filter replaces it), and the lines are summarized per shown entry only.
    paginator = LargeTablePaginator
    show_full_result_count = False
    actions = ["export_csv", "export_xlsx"]

    class Media:
        css = {"all": ["accounting/admin.css"]}

    entry_fields = [
        "kind", "posted_at", "memo", "reference", "party", "reason", "created_by", "total",
        "state",
    ]  # fmt: skip
    # Read-only panels showing where an entry came from, contributed by other apps.
    source_fields: list[str] = []

    def get_fields(self, request, obj=None):
        return [*self.entry_fields, *self.source_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def document_of(self, entry: JournalEntry) -> tuple[str | None, object]:
        """(document number, document date) of the business document behind `entry`."""
        return None, None

    def get_queryset(self, request):
        lines = JournalLine.objects.filter(entry=OuterRef("pk")).order_by().values("entry")

        def codes(side):
            return Subquery(
                lines.filter(side=side)
                .annotate(c=StringAgg("account__code", ", ", distinct=True))
                .values("c"),
                output_field=CharField(),
            )

        return (
            super()
            .get_queryset(request)
            .select_related(
                "reverses",
                "reclassifies",
                "created_by",
                "reversed_by",
                "reclassified_by",
            )  # fmt: skip
            .annotate(
                total_debit=Subquery(
                    lines.filter(side=Side.DEBIT).annotate(s=Sum("amount")).values("s"),
                    output_field=_MONEY,
                ),
                debit_codes=codes(Side.DEBIT),
                credit_codes=codes(Side.CREDIT),
            )
        )

    def operation_id_filter(self, operation_id):
        return Q(id__in=journal_entries_with_corrections(self.entries_of_operation(operation_id)))

    def entries_of_operation(self, operation_id) -> set[int]:
        """Ids of the entries an operation id names: the manual entries that give it as their
        reference (an index of manual entries only). Apps that book operations add theirs."""
        manual = JournalEntry.objects.filter(kind=EntryKind.MANUAL, reference=str(operation_id))
        return set(manual.values_list("id", flat=True))

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            amount = Decimal(search_term.strip().replace(",", "."))
        except (InvalidOperation, ValueError):
            return results, may_have_duplicates
        if amount.is_finite():
            by_amount = queryset.filter(lines__amount=amount)
            return (results | by_amount).distinct(), True
        return results, may_have_duplicates

    @admin.display(description=_("Posted"), ordering="posted_at")
    def posted(self, obj):
        return local_time(obj.posted_at, short=True)

    @admin.display(description=_("Document date"))
    def document_date(self, obj):
        _, document_date = self.document_of(obj)
        return local_time(document_date, short=True) if document_date else "-"

    @admin.display(description=_("Reference"), ordering="reference")
    def reference_display(self, obj):
        number, _ = self.document_of(obj)
        operation = (
            format_html('<small title="{}">{}…</small>', obj.reference, obj.reference[:8])
            if obj.reference
            else ""
        )
        if number:
            return format_html("{}<br>{}", number, operation)
        return operation or "-"

    @admin.display(description=_("Total"), ordering="total_debit")
    def total(self, obj):
        return amount(obj.total_debit)

    @admin.display(description=_("Debit → credit"))
    def accounts(self, obj):
        return format_html(_("Dr {}<br>Cr {}"), obj.debit_codes, obj.credit_codes)

    @admin.display(description=_("Corrections"))
    def state(self, obj):
        parts = []
        if obj.reverses_id:
            parts.append(
                format_html(_("reversal of {}"), admin_link(obj.reverses, f"#{obj.reverses_id}"))
            )
        if obj.reclassifies_id:
            parts.append(
                format_html(_("moves {}"), admin_link(obj.reclassifies, f"#{obj.reclassifies_id}"))
            )
        reversed_by = getattr(obj, "reversed_by", None)
        if reversed_by:
            parts.append(
                format_html(
                    '<strong style="color:#cf222e">{}</strong>',
                    format_html(_("reversed by {}"), admin_link(reversed_by, f"#{reversed_by.pk}")),
                )
            )
        reclassified_by = getattr(obj, "reclassified_by", None)
        if reclassified_by:
            parts.append(
                format_html(_("moved by {}"), admin_link(reclassified_by, f"#{reclassified_by.pk}"))
            )
        return format_html_join(LINE_BREAK, "{}", ((p,) for p in parts)) or "-"

    # Corrections -------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/reverse/", wrap(self.reverse_view), name="accounting_journalentry_reverse"
            ),
            path(
                "<int:pk>/reclassify/",
                wrap(self.reclassify_view),
                name="accounting_journalentry_reclassify",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entry = self.get_object(request, object_id)
        extra_context = {**(extra_context or {})}
        if entry is not None:
            # The buttons show exactly where the services would accept the correction.
            extra_context["can_reverse"] = request.user.has_perm(
                "accounting.reverse_journalentry"
            ) and bool(journal_entry_reversible(entry=entry))
            extra_context["can_reclassify"] = request.user.has_perm(
                "accounting.reclassify_journalentry"
            ) and bool(journal_entry_reclassifiable(entry=entry))
        return super().change_view(request, object_id, form_url, extra_context)

    def _correction(self, request, pk, *, permission, form_class, title, explanation, apply):
        if not request.user.has_perm(permission):
            raise PermissionDenied
        entry = get_object_or_404(JournalEntry, pk=pk)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                created = apply(entry, form.cleaned_data, request.user)
            except LedgerError as exc:
                messages.error(request, str(exc))
                return redirect("admin:accounting_journalentry_change", entry.pk)
            messages.success(request, _("Posted %(entry)s.") % {"entry": created})
            return redirect("admin:accounting_journalentry_change", created.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "entry": entry,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/accounting/action_form.html", context)

    def reverse_view(self, request, pk):
        return self._correction(
            request,
            pk,
            permission="accounting.reverse_journalentry",
            form_class=ReverseForm,
            title=_("Reverse entry"),
            explanation=_("Posts the mirror image of this entry; the entry itself is not changed."),
            apply=lambda entry, data, user: journal_entry_reverse(
                entry=entry, reason=data["reason"], created_by=user
            ),
        )

    def reclassify_view(self, request, pk):
        return self._correction(
            request,
            pk,
            permission="accounting.reclassify_journalentry",
            form_class=ReclassifyForm,
            title=_("Reclassify unidentified receipt"),
            explanation=(
                _("Moves the amount from %(account)s to the organization's account.")
                % {"account": UNIDENTIFIED_RECEIPTS.code}
            ),
            apply=lambda entry, data, user: journal_entry_reclassify(
                entry=entry, to_account=data["account"], reason=data["reason"], created_by=user
            ),
        )

    # Exports -----------------------------------------------------------------------------

    def _export(self, queryset, fmt):
        rows = (
            [
                e.pk, e.posted_at, self.document_of(e)[1],
                e.kind, e.memo, e.reference, e.party,
                e.total_debit, e.debit_codes, e.credit_codes, e.reverses_id,
                getattr(getattr(e, "reversed_by", None), "pk", None), e.reason,
                e.created_by.get_username() if e.created_by else "",
            ]
            for e in queryset.order_by("id")
        )  # fmt: skip
        return table_response(
            filename="journal", fmt=fmt, headers=JOURNAL_EXPORT_HEADERS, rows=rows
        )

    @admin.action(description=_("Export selected entries to CSV"))
    def export_csv(self, request, queryset):
        return self._export(queryset, "csv")

    @admin.action(description=_("Export selected entries to XLSX"))
    def export_xlsx(self, request, queryset):
        return self._export(queryset, "xlsx")
