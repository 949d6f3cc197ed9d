from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounting.admin import JournalEntryAdmin
from accounting.models import JournalEntry
from common.admin_tools import (
    LINE_BREAK,
    LargeTablePaginator,
    OperationIdSearchMixin,
    ReadOnlyAdminMixin,
    ReceivedRangeFilter,
    admin_link,
    amount,
    local_time,
)
from webhooks.models import BankImitation, Delivery, DeliveryResult, Payment

_RESULT_COLOURS = {
    DeliveryResult.BOOKED: "#1a7f37",
    DeliveryResult.UNIDENTIFIED: "#9a6700",
    DeliveryResult.DUPLICATE: "#57606a",
    DeliveryResult.CONFLICT: "#cf222e",
    DeliveryResult.REJECTED: "#8250df",
}


@admin.register(Payment)
class PaymentAdmin(OperationIdSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["operation_id", "source", "amount", "payer_inn", "document_number",
                    "document_date", "received_at", "entry_link"]  # fmt: skip
    list_filter = [ReceivedRangeFilter, "source"]
    search_fields = ["operation_id", "payer_inn", "document_number"]
    list_select_related = ["entry"]
    paginator = LargeTablePaginator
    show_full_result_count = False

    def operation_id_filter(self, operation_id):
        return Q(operation_id=operation_id)  # unique

    @admin.display(description=_("Entry"))
    def entry_link(self, obj):
        return admin_link(obj.entry, f"#{obj.entry_id}")


class FollowUpFilter(admin.SimpleListFilter):
    title = _("follow-up")
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [("conflicts", _("Conflicting repeats")), ("rejected", _("Rejected"))]

    def queryset(self, request, queryset):
        if self.value() == "conflicts":
            return queryset.filter(result=DeliveryResult.CONFLICT)
        if self.value() == "rejected":
            return queryset.filter(result=DeliveryResult.REJECTED)
        return queryset


class HttpStatusFilter(admin.SimpleListFilter):
    """The statuses deliveries were answered with: 200 for every delivery that reached the
    books, and those of the rejected deliveries still kept, read through their partial
    index. (Django's own filter of a field reads the whole table for its DISTINCT, on every
    page of the list.)"""

    title = _("http status")
    parameter_name = "http_status"

    def lookups(self, request, model_admin):
        rejected = (
            Delivery.objects.filter(result=DeliveryResult.REJECTED)
            .order_by()
            .values_list("http_status", flat=True)
            .distinct()
        )
        return [(str(status), str(status)) for status in sorted({200, *rejected})]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            status = int(self.value())
        except ValueError:
            return queryset.none()
        return queryset.filter(http_status=status) if 100 <= status <= 599 else queryset.none()


@admin.register(Delivery)
class DeliveryAdmin(OperationIdSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "received_at", "result_badge", "http_status", "operation_id",
                    "payment_link", "why"]  # fmt: skip
    list_filter = [ReceivedRangeFilter, FollowUpFilter, "result", HttpStatusFilter]
    search_fields = ["operation_id", "raw_body"]
    list_select_related = ["payment"]
    paginator = LargeTablePaginator
    show_full_result_count = False

    def operation_id_filter(self, operation_id):
        # A delivery that reached the books points at its payment, found by its unique
        # operation_id; only deliveries without one (rejected) index their own.
        payments = Payment.objects.filter(operation_id=operation_id).values_list("id", flat=True)
        return Q(payment_id__in=list(payments)) | Q(payment__isnull=True, operation_id=operation_id)

    @admin.display(description=_("Result"), ordering="result")
    def result_badge(self, obj):
        style = f"color:{_RESULT_COLOURS.get(obj.result, '#000')};font-weight:bold"
        if obj.result == DeliveryResult.CONFLICT:
            style += ";background:#ffebe9;padding:2px 6px"
        return format_html('<span style="{}">{}</span>', style, obj.get_result_display())

    @admin.display(description=_("Payment"))
    def payment_link(self, obj):
        return admin_link(obj.payment, str(obj.payment)) if obj.payment_id else "-"

    @admin.display(description=_("Why"))
    def why(self, obj):
        if obj.errors:
            return "; ".join(
                f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                for field, msgs in obj.errors.items()
            )
        if obj.result == DeliveryResult.CONFLICT:
            return _("Same operation_id as an earlier payment, different content")
        return ""


@admin.register(BankImitation)
class BankImitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "repeats", "signed", "finished_at"]


class PaymentJournalEntryAdmin(JournalEntryAdmin):
    """The journal, with each payment entry's bank document, its payment and every raw
    delivery of it (conflicting repeats included)."""

    source_fields = ["source_payment", "source_deliveries"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment")

    def entries_of_operation(self, operation_id):
        payments = Payment.objects.filter(operation_id=operation_id).values_list(
            "entry_id", flat=True
        )
        return super().entries_of_operation(operation_id) | set(payments)

    def document_of(self, entry: JournalEntry):
        payment = getattr(entry, "payment", None)
        return (payment.document_number, payment.document_date) if payment else (None, None)

    @admin.display(description=_("Payment"))
    def source_payment(self, obj):
        payment = getattr(obj, "payment", None)
        if payment is None:
            return "-"
        return format_html(
            _("{} — {} from INN {}, document {} of {}"),
            admin_link(payment, str(payment.operation_id or _("booked from the bank statement"))),
            amount(payment.amount.amount),
            payment.payer_inn,
            payment.document_number,
            local_time(payment.document_date),
        )

    @admin.display(description=_("Deliveries"))
    def source_deliveries(self, obj):
        payment = getattr(obj, "payment", None)
        if payment is None:
            return "-"
        return format_html_join(
            LINE_BREAK,
            "{} {} — {}: <code>{}</code>",
            (
                (
                    admin_link(d, f"#{d.pk}"),
                    local_time(d.received_at),
                    d.get_result_display(),
                    d.raw_body[:300],
                )
                for d in payment.deliveries.order_by("id")
            ),
        )


admin.site.unregister(JournalEntry)
admin.site.register(JournalEntry, PaymentJournalEntryAdmin)
