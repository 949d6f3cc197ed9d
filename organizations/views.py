from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from organizations.models import Organization
from organizations.selectors import organization_balance_get
from organizations.serializers import (
    OrganizationBalanceOutputSerializer,
    OrganizationNotFoundSerializer,
)


class OrganizationBalanceView(APIView):
    @extend_schema(
        operation_id="organization_balance_retrieve",
        summary="Current balance of an organization",
        description=(
            "The exact balance credited to the organization with this INN: every booked "
            "payment, including unidentified receipts moved to it when it was created, less "
            "reversals. Never stale: cached sums plus not yet consolidated changes."
        ),
        parameters=[
            OpenApiParameter("inn", str, OpenApiParameter.PATH, description="INN, 10 or 12 digits.")
        ],
        responses={200: OrganizationBalanceOutputSerializer, 404: OrganizationNotFoundSerializer},
        examples=[
            OpenApiExample(
                "Balance",
                value={"inn": "1234567890", "balance": 145000},
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Unknown INN",
                value={"detail": "No organization with INN 1234567890."},
                response_only=True,
                status_codes=["404"],
            ),
        ],
        tags=["organizations"],
    )
    def get(self, request, inn: str):
        try:
            balance = organization_balance_get(inn=inn)
        except Organization.DoesNotExist:
            return Response({"detail": f"No organization with INN {inn}."}, status=404)
        return Response(OrganizationBalanceOutputSerializer({"inn": inn, "balance": balance}).data)
