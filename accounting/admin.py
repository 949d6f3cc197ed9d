"""The accountants' view of the ledger: review, reverse, reclassify, export; never edit."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.aggregates import StringAgg
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounting.exceptions import LedgerError
from accounting.exports import table_response
from accounting.models import (
    ORGANIZATION_ACCOUNT_PREFIX,
    UNIDENTIFIED_RECEIPTS_CODE,
    Account,
    AccountType,
    EntryKind,
    JournalEntry,
    JournalLine,
    Side,
)
from accounting.selectors import (
    account_balance_expression,
    suspense_receipts_unallocated,
    trial_balance_get,
)
from accounting.services import journal_entry_reclassify, journal_entry_reverse


class ReadOnlyAdminMixin:
    """Posted ledger rows are never changed or deleted from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


_BR = mark_safe("<br>")  # noqa: S308  (a constant)


def _link(obj, label=None):
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


class DateRangeFilter(admin.ListFilter):
    """Entries posted between two dates (inclusive), in the service's time zone."""

    title = "posted between"
    template = "admin/accounting/date_range_filter.html"
    parameter_from = "posted_from"
    parameter_to = "posted_to"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in (self.parameter_from, self.parameter_to):
            value = params.pop(name, None)
            value = value[-1] if isinstance(value, list) else value
            try:
                self.values[name] = date.fromisoformat(value) if value else None
            except ValueError:
                self.values[name] = None

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_from, self.parameter_to]

    def queryset(self, request, queryset):
        start, end = self.values[self.parameter_from], self.values[self.parameter_to]
        if start:
            queryset = queryset.filter(posted_at__gte=_midnight(start))
        if end:
            queryset = queryset.filter(posted_at__lt=_midnight(end + timedelta(days=1)))
        return queryset

    def choices(self, changelist):
        yield {
            "values": {k: (v.isoformat() if v else "") for k, v in self.values.items()},
            "reset_url": changelist.get_query_string(remove=self.expected_parameters()),
            "params": changelist.get_filters_params(),
        }


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AccountFilter(admin.SimpleListFilter):
    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [(a.code, f"{a.code} {a.name}") for a in Account.objects.order_by("code")[:500]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(lines__account__code=self.value()).distinct()
        return queryset


class ReversalStateFilter(admin.SimpleListFilter):
    title = "corrections"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("reversed", "Reversed"),
            ("not_reversed", "Not reversed"),
            ("unallocated", "Unidentified, not yet allocated"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "reversed":
            return queryset.filter(reversed_by__isnull=False)
        if self.value() == "not_reversed":
            return queryset.filter(reversed_by__isnull=True)
        if self.value() == "unallocated":
            return queryset.filter(pk__in=suspense_receipts_unallocated().values("pk"))
        return queryset


def _local(moment, short: bool = False) -> str:
    """A timestamp in the service's time zone: localized, or dd.mm.yyyy hh:mm when short."""
    if not moment:
        return "-"
    moment = timezone.localtime(moment)
    return formats.date_format(moment, "d.m.Y H:i") if short else formats.localize(moment)


class JournalLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JournalLine
    fields = ["account", "debit_amount", "credit_amount"]
    readonly_fields = fields
    extra = 0

    class Media:
        css = {"all": ["accounting/admin.css"]}

    @admin.display(description="Debit")
    def debit_amount(self, line):
        return line.amount.amount if line.side == Side.DEBIT else ""

    @admin.display(description="Credit")
    def credit_amount(self, line):
        return line.amount.amount if line.side == Side.CREDIT else ""


_MONEY = DecimalField(max_digits=20, decimal_places=2)

JOURNAL_EXPORT_HEADERS = [
    "entry", "posted_at", "document_date", "kind", "memo", "reference", "inn", "total",
    "debit_accounts", "credit_accounts", "reverses", "reversed_by", "reason", "created_by",
]  # fmt: skip


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id", "posted", "document_date", "kind", "memo", "reference_display", "total",
        "accounts", "state",
    ]  # fmt: skip
    list_filter = [DateRangeFilter, "kind", AccountFilter, ReversalStateFilter]
    search_fields = ["reference", "memo", "party"]
    search_help_text = "Operation id, document number, INN, or an exact amount (1234.56)."
    date_hierarchy = "posted_at"
    inlines = [JournalLineInline]
    list_per_page = 50
    actions = ["export_csv", "export_xlsx"]

    class Media:
        css = {"all": ["accounting/admin.css"]}

    fields = [
        "kind", "posted_at", "memo", "reference", "party", "reason", "created_by", "total",
        "state", "source_payment", "source_deliveries",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        lines = JournalLine.objects.filter(entry=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .select_related(
                "reverses",
                "reclassifies",
                "created_by",
                "reversed_by",
                "reclassified_by",
                "payment",
            )  # fmt: skip
            .annotate(
                total_debit=Subquery(
                    lines.filter(side=Side.DEBIT)
                    .values("entry")
                    .annotate(s=Sum("amount"))
                    .values("s"),
                    output_field=_MONEY,
                ),
                debit_codes=StringAgg(
                    "lines__account__code", ", ", filter=Q(lines__side=Side.DEBIT), distinct=True
                ),
                credit_codes=StringAgg(
                    "lines__account__code", ", ", filter=Q(lines__side=Side.CREDIT), distinct=True
                ),
            )
        )

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

    @admin.display(description="Posted", ordering="posted_at")
    def posted(self, obj):
        return _local(obj.posted_at, short=True)

    @admin.display(description="Document date")
    def document_date(self, obj):
        payment = getattr(obj, "payment", None)
        return _local(payment.document_date, short=True) if payment else "-"

    @admin.display(description="Reference", ordering="reference")
    def reference_display(self, obj):
        payment = getattr(obj, "payment", None)
        operation = (
            format_html('<small title="{}">{}…</small>', obj.reference, obj.reference[:8])
            if obj.reference
            else ""
        )
        if payment:
            return format_html("{}<br>{}", payment.document_number, operation)
        return operation or "-"

    @admin.display(description="Total", ordering="total_debit")
    def total(self, obj):
        return obj.total_debit

    @admin.display(description="Debit → credit")
    def accounts(self, obj):
        return format_html("Dr {}<br>Cr {}", obj.debit_codes, obj.credit_codes)

    @admin.display(description="Corrections")
    def state(self, obj):
        parts = []
        if obj.reverses_id:
            parts.append(format_html("reversal of {}", _link(obj.reverses, f"#{obj.reverses_id}")))
        if obj.reclassifies_id:
            parts.append(
                format_html("moves {}", _link(obj.reclassifies, f"#{obj.reclassifies_id}"))
            )
        reversed_by = getattr(obj, "reversed_by", None)
        if reversed_by:
            parts.append(
                format_html(
                    '<strong style="color:#cf222e">reversed by {}</strong>',
                    _link(reversed_by, f"#{reversed_by.pk}"),
                )
            )
        reclassified_by = getattr(obj, "reclassified_by", None)
        if reclassified_by:
            parts.append(
                format_html("moved by {}", _link(reclassified_by, f"#{reclassified_by.pk}"))
            )
        return format_html_join(_BR, "{}", ((p,) for p in parts)) or "-"

    @admin.display(description="Payment")
    def source_payment(self, obj):
        payment = getattr(obj, "payment", None)
        if payment is None:
            return "-"
        return format_html(
            "{} — {} from INN {}, document {} of {}",
            _link(payment, str(payment.operation_id)),
            payment.amount,
            payment.payer_inn,
            payment.document_number,
            _local(payment.document_date),
        )

    @admin.display(description="Deliveries")
    def source_deliveries(self, obj):
        payment = getattr(obj, "payment", None)
        if payment is None:
            return "-"
        return format_html_join(
            _BR,
            "{} {} — {}: <code>{}</code>",
            (
                (
                    _link(d, f"#{d.pk}"),
                    _local(d.received_at),
                    d.get_result_display(),
                    d.raw_body[:300],
                )
                for d in payment.deliveries.order_by("id")
            ),
        )

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
            extra_context["can_reverse"] = request.user.has_perm(
                "accounting.reverse_journalentry"
            ) and (entry.kind != EntryKind.REVERSAL and not hasattr(entry, "reversed_by"))
            extra_context["can_reclassify"] = (
                request.user.has_perm("accounting.reclassify_journalentry")
                and suspense_receipts_unallocated().filter(pk=entry.pk).exists()
            )
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
            messages.success(request, f"Posted {created}.")
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
            title="Reverse entry",
            explanation="Posts the mirror image of this entry; the entry itself is not changed.",
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
            title="Reclassify unidentified receipt",
            explanation=(
                f"Moves the amount from {UNIDENTIFIED_RECEIPTS_CODE} to the organization's account."
            ),
            apply=lambda entry, data, user: journal_entry_reclassify(
                entry=entry, to_account=data["account"], reason=data["reason"], created_by=user
            ),
        )

    # Exports -----------------------------------------------------------------------------

    def _export(self, queryset, fmt):
        rows = (
            [
                e.pk, e.posted_at, getattr(getattr(e, "payment", None), "document_date", None),
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

    @admin.action(description="Export selected entries to CSV")
    def export_csv(self, request, queryset):
        return self._export(queryset, "csv")

    @admin.action(description="Export selected entries to XLSX")
    def export_xlsx(self, request, queryset):
        return self._export(queryset, "xlsx")


class ReverseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


class ReclassifyForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=Account.objects.filter(
            type=AccountType.LIABILITY, code__startswith=ORGANIZATION_ACCOUNT_PREFIX
        ).order_by("name"),
        label="Organization's account (INN or name)",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "type", "currency", "balance"]
    list_filter = ["type", "currency"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(balance=account_balance_expression())

    @admin.display(description="Balance (normal side)", ordering="balance")
    def balance(self, obj):
        return obj.balance

    def get_urls(self):
        return [
            path(
                "trial-balance/",
                self.admin_site.admin_view(self.trial_balance_view),
                name="accounting_trial_balance",
            ),
            *super().get_urls(),
        ]

    def trial_balance_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            day = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            day = timezone.localdate()
        rows = trial_balance_get(until=_midnight(day + timedelta(days=1)))
        fmt = request.GET.get("format")
        if fmt in ("csv", "xlsx"):
            return table_response(
                filename=f"trial-balance-{day.isoformat()}",
                fmt=fmt,
                headers=["account", "name", "type", "currency", "debit", "credit", "balance"],
                rows=(
                    [r.code, r.name, r.type, r.currency, r.debit, r.credit, r.balance] for r in rows
                ),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial balance",
            "day": day,
            "rows": rows,
            "total_debit": sum((r.debit for r in rows), Decimal(0)),
            "total_credit": sum((r.credit for r in rows), Decimal(0)),
            "total_balance": sum((r.balance for r in rows), Decimal(0)),
            "opts": self.model._meta,
        }
        return render(request, "admin/accounting/trial_balance.html", context)
