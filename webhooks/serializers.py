from rest_framework import serializers

from webhooks.models import DeliveryResult


class BankWebhookOutputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[c for c in DeliveryResult.values if c != DeliveryResult.REJECTED]
    )
    operation_id = serializers.UUIDField()
    payment_id = serializers.IntegerField()


class WebhookErrorSerializer(serializers.Serializer):
    """Field name → list of messages; `detail` for errors not tied to one field."""

    detail = serializers.CharField(required=False)
