from rest_framework import serializers

from settings.api import AmountField


class OrganizationBalanceOutputSerializer(serializers.Serializer):
    inn = serializers.CharField(help_text="The organization's INN (10 or 12 digits).")
    balance = AmountField(
        help_text="Exact balance in roubles: a JSON number with at most two decimal places."
    )


class OrganizationNotFoundSerializer(serializers.Serializer):
    detail = serializers.CharField()
