from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from rest_framework import serializers

from common.api import AmountField


class OrganizationBalanceOutputSerializer(serializers.Serializer):
    inn = serializers.CharField(help_text="The organization's INN (10 or 12 digits).")
    balance = AmountField(
        help_text="Exact balance in roubles: a JSON number with at most two decimal places."
    )


class OrganizationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


def _messages() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), required=False)


class StatementQueryErrorSerializer(serializers.Serializer):
    """A refused query: each offending parameter with its messages."""

    page = _messages()
    page_size = _messages()
    non_field_errors = _messages()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = _messages()
        fields["to"] = _messages()
        return fields


# Bounds of the query parameters: every day a statement can cover, and pages far beyond any
# account's lines (page x page_size must stay a small integer for PostgreSQL's OFFSET).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)
MAX_PAGE = 1_000_000
DAY_BOUNDS = [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)]


class StatementQuerySerializer(serializers.Serializer):
    """`from` and `to` are inclusive dates in the service's time zone."""

    date_from = serializers.DateField(
        required=False, validators=DAY_BOUNDS, help_text="First day (YYYY-MM-DD)."
    )
    date_to = serializers.DateField(
        required=False, validators=DAY_BOUNDS, help_text="Last day (YYYY-MM-DD)."
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
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
