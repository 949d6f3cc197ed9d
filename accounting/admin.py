from django.contrib import admin

from accounting.models import Account, JournalEntry, JournalLine
from accounting.selectors import account_balance_expression


class ReadOnlyAdminMixin:
    """Posted ledger rows are never changed or deleted from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class JournalLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JournalLine
    fields = ["account", "side", "amount"]
    readonly_fields = fields
    extra = 0


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "posted_at", "kind", "memo", "reference", "party", "reverses"]
    list_filter = ["kind", "posted_at"]
    search_fields = ["reference", "party", "memo"]
    date_hierarchy = "posted_at"
    inlines = [JournalLineInline]
    list_select_related = ["reverses"]
