from rest_framework import serializers

from common.api import AmountField


class OrganizationBalanceOutputSerializer(serializers.Serializer):
    inn = serializers.CharField(help_text="The organization's INN (10 or 12 digits).")
    balance = AmountField(
        help_text="Exact balance in roubles: a JSON number with at most two decimal places."
    )


class OrganizationNotFoundSerializer(serializers.Serializer):
    detail = serializers.CharField()


class StatementQuerySerializer(serializers.Serializer):
    """`from` and `to` are inclusive dates in the service's time zone."""

    date_from = serializers.DateField(required=False, help_text="First day (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="Last day (YYYY-MM-DD).")
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)

    def get_fields(self):
        # The query parameters are `from` and `to`, which are not Python identifiers.
        fields = super().get_fields()
        fields["from"] = fields.pop("date_from")
        fields["to"] = fields.pop("date_to")
        return fields

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and end < start:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


class StatementLineOutputSerializer(serializers.Serializer):
    entry_id = serializers.IntegerField()
    posted_at = serializers.DateTimeField()
    kind = serializers.CharField()
    memo = serializers.CharField()
    reference = serializers.CharField(help_text="The payment's operation_id, if any.")
    debit = AmountField()
    credit = AmountField()
    balance = AmountField(help_text="Running balance after this line.")


class OrganizationStatementOutputSerializer(serializers.Serializer):
    inn = serializers.CharField()
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    opening_balance = AmountField()
    closing_balance = AmountField()
    count = serializers.IntegerField(help_text="Lines in the period.")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    lines = StatementLineOutputSerializer(many=True)
