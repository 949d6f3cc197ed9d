"""The balance-change log and the fold's backlog, read-only: what the home page's panel
links to when a dispatch or the fold falls behind."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounting.models import BalanceChange, BalanceDelta
from common.admin_tools import LargeTablePaginator, ReadOnlyAdminMixin, local_time


class PendingFilter(admin.SimpleListFilter):
    title = _("dispatch")
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", _("Not dispatched yet")), ("no", _("Dispatched"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            # Oldest first, along the pending rows' partial index.
            return queryset.filter(dispatched_at__isnull=True).order_by("id")
        if self.value() == "no":
            return queryset.filter(dispatched_at__isnull=False)
        return queryset


@admin.register(BalanceChange)
class BalanceChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "account", "entry_id", "amount", "balance_after", "created",
                    "dispatched"]  # fmt: skip
    list_filter = [PendingFilter]
    list_select_related = ["account"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    ordering = ["-id"]

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, obj):
        return local_time(obj.created_at, short=True)

    @admin.display(description=_("dispatched at"), ordering="dispatched_at")
    def dispatched(self, obj):
        return local_time(obj.dispatched_at, short=True)


@admin.register(BalanceDelta)
class BalanceDeltaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "account", "amount"]
    list_select_related = ["account"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    ordering = ["id"]
