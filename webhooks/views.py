"""The bank's payment webhook: POST /api/v1/webhook/bank/."""

import logging
import time
from uuid import UUID

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import UnreadablePostError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from common.api import (
    DecimalJSONRenderer,
    FirstRenderer,
    JSONBodyError,
    database_unavailable_response,
    json_loads_decimal,
    json_response,
)
from common.network import address_in, client_address
from common.observability import operation_id_var
from common.throttling import FixedWindowThrottle
from webhooks import metrics
from webhooks.exceptions import PaymentUnbookable, SignatureError
from webhooks.models import DeliveryResult
from webhooks.payload import REQUEST_SCHEMA, PayloadInvalid, payment_fields_parse
from webhooks.serializers import BankWebhookOutputSerializer, WebhookErrorSerializer
from webhooks.services import (
    IncomingPayment,
    bank_payment_receive,
    delivery_reject,
    text_for_storage,
)
from webhooks.signatures import (
    SIGNATURE_HEADER,
    SIGNATURE_HEADERS,
    STANDARD_ID_HEADER,
    STANDARD_SIGNATURE_HEADER,
    STANDARD_TIMESTAMP_HEADER,
    TIMESTAMP_HEADER,
    signature_verify,
)

logger = logging.getLogger(__name__)

# Headers kept with each recorded delivery, each cut to HEADER_VALUE_LIMIT characters.
RECORDED_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Request-Id",
    "X-Forwarded-For",
    *SIGNATURE_HEADERS,
)
HEADER_VALUE_LIMIT = 512


class RejectedSourceThrottle(FixedWindowThrottle):
    """Counts the deliveries of one source address that are rejected before authentication;
    past WEBHOOK_REJECTED_RATE they are answered 429 and no longer recorded."""

    scope = "rejected_source"

    def __init__(self, address: str | None):
        self.address = address or "unknown"
        super().__init__()

    def get_ident_key(self, request, view) -> str:
        return self.address


BRIEF_EXAMPLE = {
    "operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",
    "amount": 145000,
    "payer_inn": "1234567890",
    "document_number": "PAY-328",
    "document_date": "2024-04-27T21:00:00Z",
}


def _operation_id_of(data) -> UUID | None:
    """The operation_id of a rejected body, when it has a well-formed one."""
    if isinstance(data, dict) and isinstance(data.get("operation_id"), str):
        try:
            return UUID(data["operation_id"])
        except ValueError:
            return None
    return None


class BodyIncomplete(ValueError):
    """The body did not arrive whole: (status, message)."""


def _is_chunked(request) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _body_read(request, *, declared_length: int, limit: int) -> bytes:
    """The raw body, at most limit + 1 bytes of it.

    Under gunicorn the socket waits REQUEST_BODY_READ_TIMEOUT_SECONDS between two reads
    (common/handlers.py), so a client that stalls or sends less than its Content-Length is
    answered 408 before the worker's own timeout kills it mid-request. A chunked body
    (which Django does not read: it has no Content-Length) is read from the server's
    de-chunking input, when the server says it terminates it (wsgi.input_terminated);
    otherwise it is refused with 411.
    """
    chunked = _is_chunked(request)
    if chunked and not request.META.get("wsgi.input_terminated"):
        raise BodyIncomplete(411, "Content-Length is required.")
    try:
        body = request.META["wsgi.input"].read(limit + 1) if chunked else request.body
    except (UnreadablePostError, OSError) as exc:
        raise BodyIncomplete(
            408,
            f"The body was not received in time ({declared_length} bytes declared): {exc}",
        ) from exc
    if not chunked and len(body) < declared_length:
        raise BodyIncomplete(
            400, f"The body is shorter than its Content-Length ({len(body)} of {declared_length})."
        )
    return body


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class BankWebhookView(APIView):
    """The bank's payment webhook. The bank retries anything but 2xx.

    It reads its body itself (size, signature, then JSON), so DRF's parsers, authentication,
    permissions, throttles and content negotiation are not used: the response is always
    JSON.
    """

    parser_classes = []
    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    renderer_classes = [DecimalJSONRenderer]
    content_negotiation_class = FirstRenderer

    def dispatch(self, request, *args, **kwargs):
        """A POST goes straight to post(), which reads the raw body and answers JSON itself,
        without DRF's request wrapping; other methods (OPTIONS, 405) go through DRF."""
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.request = args, kwargs, request
        try:
            return self.post(request)
        except (OperationalError, InterfaceError):
            metrics.deliveries.labels("unavailable").inc()
            return database_unavailable_response()

    @extend_schema(
        operation_id="bank_webhook_receive",
        summary="Receive a payment webhook from the bank",
        description=(
            "Books the payment exactly once. A new operation_id is booked to the organization "
            "with payer_inn (or to unidentified receipts when there is none yet) and answered "
            "200 after the booking commits. A repeat of a known operation_id books nothing and "
            "is answered 200; if its content differs it is recorded as a conflict. Invalid "
            "input is answered 400 with the offending fields.\n\n"
            "Every delivery must be signed with a shared secret, in either scheme: "
            f"`{TIMESTAMP_HEADER}` (Unix seconds) and `{SIGNATURE_HEADER}` (`sha256=` and the "
            "hex HMAC-SHA256 of `<timestamp>.<body>`), or Standard Webhooks: "
            f"`{STANDARD_ID_HEADER}`, `{STANDARD_TIMESTAMP_HEADER}` and "
            f"`{STANDARD_SIGNATURE_HEADER}` (`v1,` and the base64 HMAC-SHA256 of "
            "`<id>.<timestamp>.<body>`). Timestamps must be within 5 minutes of the "
            "service's clock."
        ),
        request={"application/json": REQUEST_SCHEMA},
        parameters=[
            OpenApiParameter(name, str, OpenApiParameter.HEADER, required=False)
            for name in SIGNATURE_HEADERS
        ],
        responses={
            200: BankWebhookOutputSerializer,
            400: OpenApiResponse(WebhookErrorSerializer, description="Invalid body or fields."),
            401: OpenApiResponse(WebhookErrorSerializer, description="Bad or missing signature."),
            403: OpenApiResponse(WebhookErrorSerializer, description="Source address not allowed."),
            408: OpenApiResponse(
                WebhookErrorSerializer, description="The body stalled before its Content-Length."
            ),
            411: OpenApiResponse(
                WebhookErrorSerializer, description="Chunked, where the server cannot de-chunk."
            ),
            413: OpenApiResponse(WebhookErrorSerializer, description="Body too large."),
            415: OpenApiResponse(WebhookErrorSerializer, description="Not application/json."),
            422: OpenApiResponse(
                WebhookErrorSerializer,
                description="The books cannot take this payment; recorded for follow-up.",
            ),
            429: OpenApiResponse(
                WebhookErrorSerializer,
                description="Too many rejected deliveries from this source (Retry-After).",
            ),
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
            name: text_for_storage(request.headers[name][:HEADER_VALUE_LIMIT])
            for name in RECORDED_HEADERS
            if name in request.headers
        }
        remote_addr = client_address(request, settings.TRUSTED_PROXIES)
        authenticated = False
        body = b""

        def reject(status: int, errors: dict, operation_id=None):
            if not authenticated:
                throttle = RejectedSourceThrottle(remote_addr)
                if not throttle.allow_request(request, self):
                    logger.warning("Rejected deliveries from %s over the limit: 429", remote_addr)
                    wait = max(1, round(throttle.wait() or 1))
                    metrics.deliveries.labels("throttled").inc()
                    return json_response(
                        {"detail": "Too many rejected deliveries from this source."},
                        status=429,
                        headers={"Retry-After": str(wait)},
                    )
            try:
                delivery_reject(
                    http_status=status,
                    errors=errors,
                    body=body,
                    headers=headers,
                    remote_addr=remote_addr,
                    authenticated=authenticated,
                    operation_id=operation_id,
                )
            except DatabaseError:
                # Refuse the input all the same: a retry of a bad delivery cannot succeed.
                logger.exception("Could not record a rejected delivery")
            metrics.deliveries.labels(DeliveryResult.REJECTED).inc()
            return json_response(errors, status=status)

        if settings.WEBHOOK_ALLOWED_NETWORKS and not address_in(
            remote_addr, settings.WEBHOOK_ALLOWED_NETWORKS
        ):
            return reject(403, {"detail": "Deliveries are not accepted from this address."})
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
            body = _body_read(request, declared_length=declared_length, limit=limit)
        except RequestDataTooBig:  # more than Django buffers (DATA_UPLOAD_MAX_MEMORY_SIZE)
            return reject(413, {"detail": f"Body exceeds {limit} bytes."})
        except BodyIncomplete as exc:
            status, message = exc.args
            return reject(status, {"body": [message]})
        if len(body) > limit:
            body = body[: limit + 1]
            return reject(413, {"detail": f"Body exceeds {limit} bytes."})

        if settings.WEBHOOK_SECRETS:
            try:
                signature_verify(
                    secrets=settings.WEBHOOK_SECRETS,
                    headers=request.headers,
                    body=body,
                    tolerance=settings.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS,
                )
            except SignatureError as exc:
                return reject(401, {"detail": str(exc)})
            authenticated = True
        elif not settings.WEBHOOK_ALLOW_UNSIGNED:
            return reject(
                401, {"detail": "No webhook secret is configured; deliveries are refused."}
            )

        try:
            data = json_loads_decimal(body)
        except JSONBodyError as exc:
            return reject(400, {"body": [str(exc)]})
        try:
            fields = payment_fields_parse(data)
        except PayloadInvalid as exc:
            return reject(400, exc.errors, _operation_id_of(data))

        operation_id = fields["operation_id"]
        operation_id_var.set(str(operation_id))
        started = time.perf_counter()
        try:
            receipt = bank_payment_receive(
                payment=IncomingPayment(**fields),
                raw_body=text_for_storage(body),
                headers=headers,
                remote_addr=remote_addr,
            )
        except PaymentUnbookable as exc:
            logger.error("Payment %s refused by the database: %s", operation_id, exc)
            return reject(
                422,
                {"detail": f"The books cannot take this payment: {exc}"},
                operation_id,
            )
        metrics.booking_seconds.observe(time.perf_counter() - started)
        metrics.deliveries.labels(receipt.result).inc()
        return json_response(
            {
                "result": receipt.result,
                "operation_id": str(operation_id),
                "payment_id": receipt.payment_id,
            }
        )
