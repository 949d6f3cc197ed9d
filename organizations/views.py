from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import DecimalJSONRenderer, FirstRenderer, amount_for_json
from common.dates import day_bounds
from organizations.authentication import (
    ApiKeyRateThrottle,
    ApiKeyViewMixin,
    bearer_key,
    key_accept,
    key_prefix,
)
from organizations.models import ApiKeyScope
from organizations.selectors import (
    organization_balance_read,
    organization_statement_get,
    organizations_visible,
)
from organizations.serializers import (
    OrganizationBalanceOutputSerializer,
    OrganizationErrorSerializer,
    OrganizationStatementOutputSerializer,
    StatementQueryErrorSerializer,
    StatementQuerySerializer,
)

NOT_FOUND = OpenApiExample(
    "Unknown INN, or outside the key's organizations",
    value={"detail": "No organization with INN 1234567890."},
    response_only=True,
    status_codes=["404"],
)
# The refusals every read can answer, besides its own (the bodies are DRF's `detail`).
READ_REFUSALS = {
    401: OpenApiResponse(OrganizationErrorSerializer, description="No, or an invalid, API key."),
    403: OpenApiResponse(
        OrganizationErrorSerializer, description="The key lacks the balances scope."
    ),
    404: OpenApiResponse(
        OrganizationErrorSerializer,
        description="Unknown INN, or one outside the key's organizations.",
    ),
    429: OpenApiResponse(
        OrganizationErrorSerializer, description="Past API_THROTTLE_RATE (Retry-After)."
    ),
    503: OpenApiResponse(
        OrganizationErrorSerializer, description="Database unavailable (Retry-After)."
    ),
}
UNAUTHENTICATED = OpenApiExample(
    "No or invalid API key",
    value={"detail": "An API key is required (Authorization: Bearer)."},
    response_only=True,
    status_codes=["401"],
)


class OrganizationBalanceView(ApiKeyViewMixin, APIView):
    """The brief's balance read, the API's hottest path: the key and the balance come from
    one prepared statement, and the key is then checked by the same rules as everywhere
    (organizations/authentication.py: key_accept), before the per-key throttle."""

    # The view authenticates, checks the scope and throttles itself, after its one query;
    # the schema still declares ApiKeyAuthentication (ApiKeyViewMixin).
    permission_classes = []
    throttle_classes = []
    renderer_classes = [DecimalJSONRenderer]
    content_negotiation_class = FirstRenderer

    def perform_authentication(self, request):
        pass  # see get()

    @extend_schema(
        operation_id="organization_balance_retrieve",
        summary="Current balance of an organization",
        description=(
            "The exact balance credited to the organization with this INN: every booked "
            "payment, including unidentified receipts moved to it when it was created, less "
            "reversals. Never stale: cached sums plus not yet consolidated changes. Needs an "
            "API key for this organization; an INN outside the key's organizations is a 404, "
            "as an unknown one is."
        ),
        parameters=[
            OpenApiParameter("inn", str, OpenApiParameter.PATH, description="INN, 10 or 12 digits.")
        ],
        responses={200: OrganizationBalanceOutputSerializer, **READ_REFUSALS},
        examples=[
            OpenApiExample(
                "Balance",
                value={"inn": "1234567890", "balance": 145000},
                response_only=True,
                status_codes=["200"],
            ),
            NOT_FOUND,
            UNAUTHENTICATED,
        ],
        tags=["organizations"],
    )
    def get(self, request, inn: str):
        key = bearer_key(request)
        if key is None and settings.API_AUTH_REQUIRED:
            raise exceptions.NotAuthenticated("An API key is required (Authorization: Bearer).")
        read = organization_balance_read(inn=inn, key_prefix=key and key_prefix(key))
        if key is not None:
            key_accept(
                key=key,
                key_id=read.key_id,
                hashed_key=read.hashed_key,
                revoked=read.revoked,
                expiry_date=read.expiry_date,
                last_used_at=read.last_used_at,
            )
            if ApiKeyScope.BALANCES not in read.scopes:
                raise exceptions.PermissionDenied()
            request.auth = read  # the throttle counts per key prefix
        for throttle in (ApiKeyRateThrottle(),):
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait())
        if read.balance is None:
            return Response({"detail": f"No organization with INN {inn}."}, status=404)
        return Response({"inn": inn, "balance": amount_for_json(read.balance)})


class OrganizationStatementView(ApiKeyViewMixin, APIView):
    @extend_schema(
        operation_id="organization_statement_retrieve",
        summary="Account statement of an organization",
        description=(
            "Opening balance, the lines of the period with their running balance, and the "
            "closing balance. `from` and `to` are inclusive dates (YYYY-MM-DD) in the service's "
            "time zone; both optional. Lines are paginated; running balances count every "
            "earlier line."
        ),
        parameters=[
            OpenApiParameter("inn", str, OpenApiParameter.PATH, description="INN."),
            OpenApiParameter("from", OpenApiTypes.DATE, OpenApiParameter.QUERY),
            OpenApiParameter("to", OpenApiTypes.DATE, OpenApiParameter.QUERY),
            OpenApiParameter("page", int, OpenApiParameter.QUERY),
            OpenApiParameter("page_size", int, OpenApiParameter.QUERY),
        ],
        responses={
            200: OrganizationStatementOutputSerializer,
            400: OpenApiResponse(
                StatementQueryErrorSerializer, description="Invalid query parameters."
            ),
            **READ_REFUSALS,
        },
        examples=[
            OpenApiExample(
                "Statement",
                value={
                    "inn": "1234567890",
                    "date_from": "2024-04-01",
                    "date_to": "2024-04-30",
                    "opening_balance": 0,
                    "closing_balance": 145000,
                    "count": 1,
                    "page": 1,
                    "page_size": 100,
                    "lines": [
                        {
                            "entry_id": 1,
                            "posted_at": "2024-04-27T21:00:05Z",
                            "kind": "payment",
                            "memo": "Payment PAY-328 from INN 1234567890",
                            "reference": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",
                            "debit": 0,
                            "credit": 145000,
                            "balance": 145000,
                        }
                    ],
                },
                response_only=True,
                status_codes=["200"],
            ),
            NOT_FOUND,
            UNAUTHENTICATED,
        ],
        tags=["organizations"],
    )
    def get(self, request, inn: str):
        query = StatementQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        organization = (
            organizations_visible(api_key=self.api_key_of(request))
            .select_related("account")
            .filter(inn=inn)
            .first()
        )
        if organization is None:
            return Response({"detail": f"No organization with INN {inn}."}, status=404)
        start, end = day_bounds(params.get("from"), params.get("to"))
        page, size = params["page"], params["page_size"]
        statement = organization_statement_get(
            organization=organization, start=start, end=end, offset=(page - 1) * size, limit=size
        )
        data = {
            "inn": inn,
            "date_from": params.get("from"),
            "date_to": params.get("to"),
            "opening_balance": statement.opening,
            "closing_balance": statement.closing,
            "count": statement.total_lines,
            "page": page,
            "page_size": size,
            "lines": statement.lines,
        }
        return Response(OrganizationStatementOutputSerializer(data).data)
