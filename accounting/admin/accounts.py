"""The chart of accounts with balances, and the trial balance for any day."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounting.models import Account
from accounting.selectors import account_balance_expression, trial_balance_get
from common.admin_tools import ReadOnlyAdminMixin, amount
from common.dates import local_midnight
from common.exports import table_response


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "type", "currency", "balance"]
    list_filter = ["type", "currency"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(balance=account_balance_expression())

    @admin.display(description=_("Balance (normal side)"), ordering="balance")
    def balance(self, obj):
        return amount(obj.balance)

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
        rows = trial_balance_get(until=local_midnight(day + timedelta(days=1)))
        fmt = request.GET.get("format")
        if fmt in ("csv", "xlsx"):
            return table_response(
                filename=f"trial-balance-{day.isoformat()}",
                fmt=fmt,
                headers=[
                    _("account"),
                    _("name"),
                    _("type"),
                    _("currency"),
                    _("debit"),
                    _("credit"),
                    _("balance"),
                ],  # fmt: skip
                rows=(
                    [r.code, r.name, r.type, r.currency, r.debit, r.credit, r.balance] for r in rows
                ),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Trial balance"),
            "day": day,
            "rows": rows,
            "total_debit": sum((r.debit for r in rows), Decimal(0)),
            "total_credit": sum((r.credit for r in rows), Decimal(0)),
            "total_balance": sum((r.balance for r in rows), Decimal(0)),
            "opts": self.model._meta,
        }
        return render(request, "admin/accounting/trial_balance.html", context)
