from django.contrib import admin

from accounting.admin import ReadOnlyAdminMixin
from webhooks.models import Delivery, Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "operation_id",
        "amount",
        "payer_inn",
        "document_number",
        "document_date",
        "received_at",
        "entry",
    ]
    search_fields = ["operation_id", "payer_inn", "document_number"]
    date_hierarchy = "received_at"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "received_at", "result", "http_status", "operation_id", "payment"]
    list_filter = ["result", "http_status"]
    search_fields = ["operation_id"]
    date_hierarchy = "received_at"
