"""Helpers shared by the apps' admin modules."""

import json
import re
import uuid
from functools import cached_property

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from common.dates import day_bounds, parse_day

LINE_BREAK = mark_safe("<br>")  # noqa: S308  (a constant)


class ReadOnlyAdminMixin:
    """Rows that are never added, changed or deleted from the admin (posted ledger rows,
    deliveries, payments): the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


_OPERATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class OperationIdSearchMixin:
    """A search term that is a whole operation id (a UUID written with its hyphens) is
    looked up exactly, by `operation_id_filter`, through indexes: Django's substring search
    reads every row, seconds on a table of millions. Any other term, a part of an operation
    id included, is searched as usual."""

    def operation_id_filter(self, operation_id: uuid.UUID) -> Q:
        raise NotImplementedError

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not _OPERATION_ID.fullmatch(term):
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(self.operation_id_filter(uuid.UUID(term))), False


def admin_link(obj, label=None):
    """A link to `obj`'s admin change page, or "-" for None."""
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


def amount(value) -> str:
    """An amount as the active language writes it, two decimals (1 500,00 in Russian), or
    "-". Admin methods return this rather than the Decimal: Django localizes a Decimal in
    lists, but a read-only field of a change page shows its str()."""
    if value is None or value == "":
        return "-"
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def local_time(moment, short: bool = False) -> str:
    """A timestamp in the service's time zone: localized, or dd.mm.yyyy hh:mm when short."""
    if not moment:
        return "-"
    moment = timezone.localtime(moment)
    return formats.date_format(moment, "d.m.Y H:i") if short else formats.localize(moment)


class LargeTablePaginator(Paginator):
    """A paginator for tables of millions of rows (the journal, payments, deliveries).

    Django's counts every matching row on every page. This one counts exactly up to
    EXACT_UP_TO rows, which costs at most that many index entries, and past that shows the
    planner's estimate of the filtered list (never less than EXACT_UP_TO + 1). Use it with
    `show_full_result_count = False`, which drops the second count of the unfiltered table.
    """

    EXACT_UP_TO = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list.order_by().values("pk")
        counted = rows[: self.EXACT_UP_TO + 1].count()
        if counted <= self.EXACT_UP_TO:
            return counted
        return max(counted, self._estimate(rows))

    @staticmethod
    def _estimate(rows) -> int:
        sql, params = rows.query.sql_with_params()
        with connections[rows.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])


class DateRangeFilter(admin.ListFilter):
    """Rows whose `field_name` falls between two dates (inclusive), in the service's time
    zone. Unlike `date_hierarchy`, it reads no distinct years or months of the whole table.
    Subclass it per field: `field_name`, `parameter_from`, `parameter_to`, `title`."""

    field_name = ""
    parameter_from = ""
    parameter_to = ""
    template = "admin/date_range_filter.html"

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
            queryset = queryset.filter(**{f"{self.field_name}__gte": start})
        if end:
            queryset = queryset.filter(**{f"{self.field_name}__lt": end})
        return queryset

    def choices(self, changelist):
        value_from, value_to = (self.values[self.parameter_from], self.values[self.parameter_to])
        yield {
            "parameter_from": self.parameter_from,
            "parameter_to": self.parameter_to,
            "value_from": value_from.isoformat() if value_from else "",
            "value_to": value_to.isoformat() if value_to else "",
            "reset_url": changelist.get_query_string(remove=self.expected_parameters()),
            "params": changelist.get_filters_params(),
        }


class ReceivedRangeFilter(DateRangeFilter):
    title = _("received between")
    field_name = "received_at"
    parameter_from = "received_from"
    parameter_to = "received_to"
