"""The admin home page's panel: what needs the accountants' attention today."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from reconciliation.selectors import attention_panel_get

register = template.Library()


def _url(name: str, **query) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


@register.inclusion_tag("admin/attention_panel.html", takes_context=True)
def attention_panel(context):
    """The figures, each with a link to the list behind it; nothing for users who may not
    view the journal."""
    request = context["request"]
    if not request.user.has_perm("accounting.view_journalentry"):
        return {"panel": None}
    day = timezone.localdate()
    panel = attention_panel_get(day=day)
    report = panel.last_report
    oldest = panel.oldest_undispatched
    return {
        "panel": panel,
        "now": timezone.now(),
        "links": {
            "receipts_today": _url(
                "admin:accounting_journalentry_changelist",
                kind__exact="payment",
                posted_from=day.isoformat(),
                posted_to=day.isoformat(),
            ),
            "unallocated": _url("admin:accounting_journalentry_changelist", state="unallocated"),
            "conflicts": _url("admin:webhooks_delivery_changelist", follow_up="conflicts"),
            "rejected": _url("admin:webhooks_delivery_changelist", follow_up="rejected"),
            "last_report": (
                reverse("admin:reconciliation_reconciliationreport_change", args=[report.pk])
                if report
                else _url("admin:reconciliation_reconciliationreport_changelist")
            ),
            "undispatched": _url("admin:accounting_balancechange_changelist", pending="yes"),
            "oldest_undispatched": (
                reverse("admin:accounting_balancechange_change", args=[oldest.pk])
                if oldest
                else None
            ),
            "fold_backlog": _url("admin:accounting_balancedelta_changelist"),
        },
    }
