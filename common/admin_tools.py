"""Helpers shared by the apps' admin modules."""

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

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


def admin_link(obj, label=None):
    """A link to `obj`'s admin change page, or "-" for None."""
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


def local_time(moment, short: bool = False) -> str:
    """A timestamp in the service's time zone: localized, or dd.mm.yyyy hh:mm when short."""
    if not moment:
        return "-"
    moment = timezone.localtime(moment)
    return formats.date_format(moment, "d.m.Y H:i") if short else formats.localize(moment)
