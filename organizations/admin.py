from django import forms
from django.contrib import admin

from organizations.inn import INN_FORMAT_MESSAGE, inn_format_valid
from organizations.models import Organization
from organizations.selectors import organization_list_with_balances
from organizations.services import organization_create


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
    list_display = ["inn", "name", "balance", "inn_checksum_ok", "created_at"]
    search_fields = ["inn", "name"]
    readonly_fields = ["inn", "account", "created_at"]

    def get_queryset(self, request):
        return organization_list_with_balances()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = OrganizationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["inn", "name"] if obj is None else ["inn", "name", "account", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        # Through the service: it opens the account and moves unidentified receipts.
        created = organization_create(inn=obj.inn, name=obj.name, created_by=request.user)
        obj.pk, obj.account_id, obj.created_at = created.pk, created.account_id, created.created_at

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Balance", ordering="balance")
    def balance(self, obj):
        return obj.balance

    @admin.display(description="INN checksum", boolean=True)
    def inn_checksum_ok(self, obj):
        return obj.inn_checksum_valid
