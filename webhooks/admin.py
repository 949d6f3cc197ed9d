from django.contrib import admin
from django.utils.html import format_html

from accounting.admin import ReadOnlyAdminMixin, _link
from webhooks.models import BankImitation, Delivery, DeliveryResult, Payment

_RESULT_COLOURS = {
    DeliveryResult.BOOKED: "#1a7f37",
    DeliveryResult.UNIDENTIFIED: "#9a6700",
    DeliveryResult.DUPLICATE: "#57606a",
    DeliveryResult.CONFLICT: "#cf222e",
    DeliveryResult.REJECTED: "#8250df",
}


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["operation_id", "amount", "payer_inn", "document_number", "document_date",
                    "received_at", "entry_link"]  # fmt: skip
    search_fields = ["operation_id", "payer_inn", "document_number"]
    date_hierarchy = "received_at"
    list_select_related = ["entry"]

    @admin.display(description="Entry")
    def entry_link(self, obj):
        return _link(obj.entry, f"#{obj.entry_id}")


class FollowUpFilter(admin.SimpleListFilter):
    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [("conflicts", "Conflicting repeats"), ("rejected", "Rejected")]

    def queryset(self, request, queryset):
        if self.value() == "conflicts":
            return queryset.filter(result=DeliveryResult.CONFLICT)
        if self.value() == "rejected":
            return queryset.filter(result=DeliveryResult.REJECTED)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "received_at", "result_badge", "http_status", "operation_id",
                    "payment_link", "why"]  # fmt: skip
    list_filter = [FollowUpFilter, "result", "http_status"]
    search_fields = ["operation_id", "raw_body"]
    date_hierarchy = "received_at"
    list_select_related = ["payment"]

    @admin.display(description="Result", ordering="result")
    def result_badge(self, obj):
        style = f"color:{_RESULT_COLOURS.get(obj.result, '#000')};font-weight:bold"
        if obj.result == DeliveryResult.CONFLICT:
            style += ";background:#ffebe9;padding:2px 6px"
        return format_html('<span style="{}">{}</span>', style, obj.get_result_display())

    @admin.display(description="Payment")
    def payment_link(self, obj):
        return _link(obj.payment, str(obj.payment)) if obj.payment_id else "-"

    @admin.display(description="Why")
    def why(self, obj):
        if obj.errors:
            return "; ".join(
                f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                for field, msgs in obj.errors.items()
            )
        if obj.result == DeliveryResult.CONFLICT:
            return "Same operation_id as an earlier payment, different content"
        return ""


@admin.register(BankImitation)
class BankImitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "repeats", "signed", "finished_at"]
