"""List filters of the journal."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounting.models import Account, JournalLine
from accounting.selectors import suspense_receipts_unallocated
from common.admin_tools import DateRangeFilter


class PostedRangeFilter(DateRangeFilter):
    title = _("posted between")
    field_name = "posted_at"
    parameter_from = "posted_from"
    parameter_to = "posted_to"


class AccountFilter(admin.SimpleListFilter):
    title = _("account")
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [(a.code, f"{a.code} {a.name}") for a in Account.objects.order_by("code")[:500]]

    def queryset(self, request, queryset):
        if self.value():
            # A semi-join, not a join and DISTINCT: the newest entries of an account with
            # millions of lines come from the entries' primary key, 50 at a time. By the
            # account's id, read first: the planner then knows from its statistics how many
            # lines the account has (by its code, it assumed an average account's).
            account_id = Account.objects.filter(code=self.value()).values_list("pk", flat=True)
            lines = JournalLine.objects.filter(entry=OuterRef("pk"), account_id=account_id.first())
            return queryset.filter(Exists(lines))
        return queryset


class ReversalStateFilter(admin.SimpleListFilter):
    title = _("corrections")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("reversed", _("Reversed")),
            ("not_reversed", _("Not reversed")),
            ("unallocated", _("Unidentified, not yet allocated")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "reversed":
            return queryset.filter(reversed_by__isnull=False)
        if self.value() == "not_reversed":
            return queryset.filter(reversed_by__isnull=True)
        if self.value() == "unallocated":
            return queryset.filter(pk__in=suspense_receipts_unallocated().values("pk"))
        return queryset
