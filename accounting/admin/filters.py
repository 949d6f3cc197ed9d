"""List filters of the journal."""

from django.contrib import admin

from accounting.models import Account
from accounting.selectors import suspense_receipts_unallocated
from common.dates import day_bounds, parse_day


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
            self.values[name] = parse_day(value[-1] if isinstance(value, list) else value)

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.parameter_from, self.parameter_to]

    def queryset(self, request, queryset):
        start, end = day_bounds(self.values[self.parameter_from], self.values[self.parameter_to])
        if start:
            queryset = queryset.filter(posted_at__gte=start)
        if end:
            queryset = queryset.filter(posted_at__lt=end)
        return queryset

    def choices(self, changelist):
        yield {
            "values": {k: (v.isoformat() if v else "") for k, v in self.values.items()},
            "reset_url": changelist.get_query_string(remove=self.expected_parameters()),
            "params": changelist.get_filters_params(),
        }


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
