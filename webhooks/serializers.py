from decimal import Decimal

from django.conf import settings
from django.core.validators import RegexValidator
from rest_framework import serializers

from common.validators import printable_text
from organizations.inn import INN_FORMAT_MESSAGE, INN_PATTERN
from webhooks.models import DeliveryResult

MAX_AMOUNT = Decimal("9999999999999999.99")  # numeric(18, 2): what a line can hold


class _StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of coercing them to text."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _StrictUUIDField(serializers.UUIDField):
    """A UUIDField that takes only the textual form (DRF would also turn integers into UUIDs)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class BankWebhookInputSerializer(serializers.Serializer):
    operation_id = _StrictUUIDField(help_text="The bank's unique id of the operation (UUID).")
    amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        coerce_to_string=False,
        help_text=(
            "Amount in roubles: a JSON number or numeric string, > 0, at most 2 decimals, "
            "at most PAYMENT_MAX_AMOUNT (1,000,000,000.00 unless configured)."
        ),
    )
    payer_inn = _StrictCharField(
        max_length=12,
        validators=[RegexValidator(INN_PATTERN, INN_FORMAT_MESSAGE)],
        help_text="Payer's INN: a string of 10 or 12 digits.",
    )
    document_number = _StrictCharField(
        max_length=128,
        validators=[printable_text],
        help_text="Payment document number (no control or format characters).",
    )
    document_date = serializers.DateTimeField(help_text="Payment document date, ISO 8601.")

    def validate_amount(self, value: Decimal) -> Decimal:
        limit = settings.PAYMENT_MAX_AMOUNT
        if value > limit:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {limit}.", code="max_value"
            )
        return value


class BankWebhookOutputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[c for c in DeliveryResult.values if c != DeliveryResult.REJECTED]
    )
    operation_id = serializers.UUIDField()
    payment_id = serializers.IntegerField()


class WebhookErrorSerializer(serializers.Serializer):
    """Field name → list of messages; `detail` for errors not tied to one field."""

    detail = serializers.CharField(required=False)
