from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from common.admin_tools import amount
from common.dates import day_bounds, parse_day
from common.exports import table_response
from organizations.inn import INN_FORMAT_MESSAGE, inn_format_valid
from organizations.models import ApiKey, ApiKeyScope, Organization
from organizations.selectors import organization_list_with_balances, organization_statement_get
from organizations.services import (
    api_key_issue,
    api_key_revoke,
    organization_create,
    organization_rename,
)


class OrganizationAddForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["inn", "name"]

    def clean_inn(self):
        inn = self.cleaned_data["inn"].strip()
        if not inn_format_valid(inn):
            raise forms.ValidationError(INN_FORMAT_MESSAGE)
        return inn


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["inn", "name", "balance", "last_payment", "inn_checksum_ok", "statement_link"]
    search_fields = ["inn", "name"]
    readonly_fields = ["inn", "account", "created_at", "balance", "inn_warning", "statement_link"]

    def get_queryset(self, request):
        return organization_list_with_balances()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = OrganizationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["inn", "name"]
        return ["inn", "inn_warning", "name", "account", "balance", "statement_link", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            organization_rename(organization=obj, name=form.cleaned_data["name"])
            return
        # Through the service: it opens the account and moves unidentified receipts.
        created = organization_create(inn=obj.inn, name=obj.name, created_by=request.user)
        obj.pk, obj.account_id, obj.created_at = created.pk, created.account_id, created.created_at

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Balance"), ordering="balance")
    def balance(self, obj):
        return amount(obj.balance)

    @admin.display(description=_("Last payment"), ordering="last_payment_at")
    def last_payment(self, obj):
        return obj.last_payment_at or "-"

    @admin.display(description=_("INN checksum"), boolean=True)
    def inn_checksum_ok(self, obj):
        return obj.inn_checksum_valid

    @admin.display(description=_("INN check"))
    def inn_warning(self, obj):
        if obj.inn_checksum_valid:
            return _("Check digits are right.")
        return format_html(
            '<strong style="color:#cf222e">{}</strong>',
            _("The check digits are wrong: verify the INN with the organization."),
        )

    @admin.display(description=_("Statement"))
    def statement_link(self, obj):
        url = reverse("admin:organizations_organization_statement", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Statement"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/statement/",
                self.admin_site.admin_view(self.statement_view),
                name="organizations_organization_statement",
            ),
            *super().get_urls(),
        ]

    def statement_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        organization = get_object_or_404(Organization.objects.select_related("account"), pk=pk)
        date_from, date_to = parse_day(request.GET.get("from")), parse_day(request.GET.get("to"))
        start, end = day_bounds(date_from, date_to)
        statement = organization_statement_get(organization=organization, start=start, end=end)
        fmt = request.GET.get("format")
        if fmt in ("csv", "xlsx"):
            rows = [["", "", _("opening"), "", "", "", "", statement.opening]]
            rows += [
                [
                    ln.posted_at,
                    ln.entry_id,
                    ln.kind,
                    ln.memo,
                    ln.reference,
                    ln.debit,
                    ln.credit,
                    ln.balance,
                ]
                for ln in statement.lines
            ]
            rows.append(["", "", _("closing"), "", "", "", "", statement.closing])
            return table_response(
                filename=f"statement-{organization.inn}",
                fmt=fmt,
                headers=[_("posted_at"), _("entry"), _("kind"), _("memo"), _("reference"),
                         _("debit"), _("credit"), _("balance")],
                rows=rows,
            )  # fmt: skip
        query = urlencode(
            {k: v for k, v in {"from": date_from, "to": date_to}.items() if v is not None}
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Statement of %(name)s") % {"name": organization.name},
            "organization": organization,
            "statement": statement,
            "date_from": date_from,
            "date_to": date_to,
            "query": query,
            "opts": self.model._meta,
        }
        return render(request, "admin/organizations/statement.html", context)


# The package's own model is not used: keys are organizations.ApiKey, scoped to organizations.
admin.site.unregister(APIKey)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKeyScope.BALANCES],
    )

    class Meta:
        model = ApiKey
        fields = ["name", "organizations", "scopes", "expiry_date", "revoked"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Issue keys (shown once), scope them to organizations, revoke them; never read one."""

    list_display = ["prefix", "name", "scopes", "created", "last_used_at", "expiry_date",
                    "revoked"]  # fmt: skip
    list_filter = ["revoked", "created"]
    search_fields = ["name", "prefix", "organizations__inn", "organizations__name"]
    filter_horizontal = ["organizations"]
    form = ApiKeyForm
    fields = ["name", "organizations", "scopes", "expiry_date", "revoked", "prefix", "created",
              "last_used_at", "created_by"]  # fmt: skip
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["prefix", "created", "last_used_at", "created_by"]
        if obj is None:
            return [*fixed, "revoked"]
        # A key's name and scopes are fixed once issued; a revoked key is fixed entirely.
        fixed += ["name", "scopes"]
        return [*fixed, "organizations", "expiry_date", "revoked"] if obj.revoked else fixed

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's record stays, with when it was last used

    def save_model(self, request, obj, form, change):
        if change:
            if "revoked" in form.changed_data and obj.revoked:
                api_key_revoke(api_key=obj)
            obj.save()
            return
        issued, key = api_key_issue(
            name=obj.name,
            organizations=form.cleaned_data["organizations"],
            scopes=obj.scopes,
            expiry_date=obj.expiry_date,
            created_by=request.user,
        )
        obj.pk, obj.prefix, obj.hashed_key, obj.created = (
            issued.pk,
            issued.prefix,
            issued.hashed_key,
            issued.created,
        )
        messages.warning(
            request,
            _(
                "The API key for %(name)s is %(key)s — copy it now: it is not stored and "
                "cannot be shown again. Use it as `Authorization: Bearer <key>`."
            )
            % {"name": issued.name, "key": key},
        )

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)
        # On add, api_key_issue has set the organizations already.

    @admin.action(description=_("Revoke selected API keys"))
    def revoke(self, request, queryset):
        for api_key in queryset.filter(revoked=False):
            api_key_revoke(api_key=api_key)
        self.message_user(request, _("Revoked."))
