from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from bankstatements.exceptions import StatementRefused
from bankstatements.models import StatementSource
from bankstatements.permissions import STATEMENT_IMPORT_AUTHENTICATION, CanImportBankStatements
from bankstatements.serializers import (
    BankStatementErrorSerializer,
    BankStatementImportInputSerializer,
    BankStatementImportOutputSerializer,
)
from bankstatements.services import bank_statement_import


class BankStatementImportView(APIView):
    authentication_classes = STATEMENT_IMPORT_AUTHENTICATION
    permission_classes = [CanImportBankStatements]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="bank_statement_import",
        summary="Import a bank statement (1CClientBankExchange)",
        description=(
            "Imports the bank's statement of the service's account (multipart field `file`), "
            "keeps the original file, and matches each incoming document to the payments on "
            "payer INN, document number, document date and amount. The same file again "
            "changes nothing (200, `already_imported`); a statement for days already covered "
            "is a new version. A malformed file is refused whole (400) with the line number "
            "and the reason; nothing is stored. Staff with the import permission only."
        ),
        request={"multipart/form-data": BankStatementImportInputSerializer},
        responses={
            201: BankStatementImportOutputSerializer,
            200: OpenApiResponse(
                BankStatementImportOutputSerializer, description="Already imported, or a dry run."
            ),
            400: OpenApiResponse(BankStatementErrorSerializer, description="Malformed file."),
            401: OpenApiResponse(
                BankStatementErrorSerializer, description="An invalid, revoked or expired key."
            ),
            403: OpenApiResponse(BankStatementErrorSerializer, description="Not allowed."),
            408: OpenApiResponse(
                BankStatementErrorSerializer, description="The upload stalled before its end."
            ),
            415: OpenApiResponse(
                BankStatementErrorSerializer, description="Not multipart/form-data."
            ),
            503: OpenApiResponse(
                BankStatementErrorSerializer, description="Database unavailable (Retry-After)."
            ),
        },
        examples=[
            OpenApiExample(
                "Malformed",
                value={
                    "file": [
                        "line 27: Сумма='145000' is not an amount in roubles.kopecks"
                        " such as 145000.00"
                    ]
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],  # fmt: skip
        tags=["bank statements"],
    )
    def post(self, request):
        serializer = BankStatementImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            result = bank_statement_import(
                content=upload.read(),
                file_name=upload.name or "",
                source=StatementSource.API,
                # A user's session; for an API key, the user who issued it.
                imported_by=_importer(request),
                dry_run=serializer.validated_data["dry_run"],
            )
        except StatementRefused as exc:
            return Response({"file": [str(exc)]}, status=400)
        if result.dry_run:
            outcome, status = "dry_run", 200
        elif result.created:
            outcome, status = "imported", 201
        else:
            outcome, status = "already_imported", 200
        data = {
            "result": outcome,
            "message": result.message,
            "statement": result.statement,
            "lines": result.counts,
            "booked": result.booked,
        }
        return Response(BankStatementImportOutputSerializer(data).data, status=status)


def _importer(request):
    user = request.user
    if user is not None and user.is_authenticated:
        return user
    return getattr(request.auth, "created_by", None)
