from rest_framework import serializers

from common.api import AmountField


class BankStatementImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The statement file: 1CClientBankExchange, versions 1.01-1.03."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Show what the import would do and store nothing."
    )


class BankStatementSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    account_number = serializers.CharField()
    opening_balance = AmountField()
    closing_balance = AmountField()
    total_received = AmountField()
    total_paid = AmountField()
    sha256 = serializers.CharField()


class BankStatementLineCountsSerializer(serializers.Serializer):
    matched = serializers.IntegerField()
    statement_only = serializers.IntegerField()
    ambiguous = serializers.IntegerField()
    outgoing = serializers.IntegerField()


class BankStatementImportOutputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["imported", "already_imported", "dry_run"])
    message = serializers.CharField()
    statement = BankStatementSummarySerializer(allow_null=True)
    lines = BankStatementLineCountsSerializer()
    booked = serializers.IntegerField(help_text="Lines booked at import (auto-booking).")


class BankStatementErrorSerializer(serializers.Serializer):
    file = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)
