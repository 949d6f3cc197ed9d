"""The forms of the journal's corrections."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounting.chart import ORGANIZATION_ACCOUNT_PREFIX
from accounting.models import Account, AccountType


class ReverseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


class ReclassifyForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=Account.objects.filter(
            type=AccountType.LIABILITY, code__startswith=ORGANIZATION_ACCOUNT_PREFIX
        ).order_by("name"),
        label=_("Organization's account (INN or name)"),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
