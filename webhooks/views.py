import logging
from uuid import UUID

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import JSONBodyError, json_loads_decimal
from common.observability import operation_id_var
from webhooks.exceptions import SignatureError
from webhooks.serializers import (
    BankWebhookInputSerializer,
    BankWebhookOutputSerializer,
    WebhookErrorSerializer,
)
from webhooks.services import IncomingPayment, bank_payment_receive, delivery_reject
from webhooks.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_verify

logger = logging.getLogger(__name__)

# Headers kept with each recorded delivery.
RECORDED_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Request-Id",
    "X-Forwarded-For",
    TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
)

BRIEF_EXAMPLE = {
    "operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",
    "amount": 145000,
    "payer_inn": "1234567890",
    "document_number": "PAY-328",
    "document_date": "2024-04-27T21:00:00Z",
}


def _text(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL characters.
    return value.replace("\x00", "\ufffd")


def _operation_id_of(data) -> UUID | None:
    """The operation_id of a rejected body, when it has a well-formed one."""
    if isinstance(data, dict) and isinstance(data.get("operation_id"), str):
        try:
            return UUID(data["operation_id"])
        except ValueError:
            return None
    return None


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class BankWebhookView(APIView):
    """The bank's payment webhook. The bank retries anything but 2xx."""

    @extend_schema(
        operation_id="bank_webhook_receive",
        summary="Receive a payment webhook from the bank",
        description=(
            "Books the payment exactly once. A new operation_id is booked to the organization "
            "with payer_inn (or to unidentified receipts when there is none yet) and answered "
            "200 after the booking commits. A repeat of a known operation_id books nothing and "
            "is answered 200; if its content differs it is recorded as a conflict. Invalid "
            "input is answered 400 with the offending fields. When a webhook secret is "
            f"configured, `{TIMESTAMP_HEADER}` and `{SIGNATURE_HEADER}` "
            "(`sha256=` HMAC-SHA256 of `<timestamp>.<body>`) are required (401 otherwise)."
        ),
        request=BankWebhookInputSerializer,
        parameters=[
            OpenApiParameter(TIMESTAMP_HEADER, str, OpenApiParameter.HEADER, required=False),
            OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            200: BankWebhookOutputSerializer,
            400: OpenApiResponse(WebhookErrorSerializer, description="Invalid body or fields."),
            401: OpenApiResponse(WebhookErrorSerializer, description="Bad or missing signature."),
            413: OpenApiResponse(WebhookErrorSerializer, description="Body too large."),
            415: OpenApiResponse(WebhookErrorSerializer, description="Not application/json."),
            503: OpenApiResponse(WebhookErrorSerializer, description="Database unavailable."),
        },
        examples=[
            OpenApiExample("Payment from the brief", value=BRIEF_EXAMPLE, request_only=True),
            OpenApiExample(
                "Booked",
                value={
                    "result": "booked",
                    "operation_id": BRIEF_EXAMPLE["operation_id"],
                    "payment_id": 1,
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Invalid fields",
                value={
                    "amount": ["Ensure that there are no more than 2 decimal places."],
                    "payer_inn": ["INN must be 10 or 12 digits."],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
        tags=["webhooks"],
    )
    def post(self, request):
        headers = {
            name: _text(request.headers[name])
            for name in RECORDED_HEADERS
            if name in request.headers
        }
        remote_addr = request.META.get("REMOTE_ADDR") or None

        def reject(status: int, errors: dict, raw_body: str = "", operation_id=None):
            try:
                delivery_reject(
                    http_status=status,
                    errors=errors,
                    raw_body=raw_body,
                    headers=headers,
                    remote_addr=remote_addr,
                    operation_id=operation_id,
                )
            except DatabaseError:
                # Refuse the input all the same: a retry of a bad delivery cannot succeed.
                logger.exception("Could not record a rejected delivery")
            return Response(errors, status=status)

        if not _is_json(request.META.get("CONTENT_TYPE", "")):
            return reject(415, {"detail": "Content-Type must be application/json."})
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        try:
            declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared_length = 0
        if declared_length > limit:
            return reject(413, {"detail": f"Body exceeds {limit} bytes."})
        try:
            body = request.body
        except RequestDataTooBig:  # more than Django buffers (DATA_UPLOAD_MAX_MEMORY_SIZE)
            body = b"x" * (limit + 1)
        if len(body) > limit:
            return reject(413, {"detail": f"Body exceeds {limit} bytes."})
        raw_text = _text(body.decode("utf-8", errors="replace"))

        if settings.WEBHOOK_SECRET:
            try:
                signature_verify(
                    secret=settings.WEBHOOK_SECRET,
                    timestamp=request.headers.get(TIMESTAMP_HEADER),
                    signature=request.headers.get(SIGNATURE_HEADER),
                    body=body,
                    tolerance=settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS,
                )
            except SignatureError as exc:
                return reject(401, {"detail": str(exc)}, raw_text)

        try:
            data = json_loads_decimal(body)
        except JSONBodyError as exc:
            return reject(400, {"body": [str(exc)]}, raw_text)
        serializer = BankWebhookInputSerializer(data=data)
        if not serializer.is_valid():
            return reject(400, serializer.errors, raw_text, _operation_id_of(data))

        operation_id_var.set(str(serializer.validated_data["operation_id"]))
        receipt = bank_payment_receive(
            payment=IncomingPayment(**serializer.validated_data),
            raw_body=raw_text,
            headers=headers,
            remote_addr=remote_addr,
        )
        return Response(
            {
                "result": receipt.result,
                "operation_id": str(serializer.validated_data["operation_id"]),
                "payment_id": receipt.payment_id,
            }
        )
