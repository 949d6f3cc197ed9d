"""The bank imitation: a staff page at the brief's path, and the same thing as an API."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import fields, permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from organizations.models import Organization
from organizations.selectors import organization_balance_get
from webhooks.imitation import MAX_REPEATS, bank_imitation_start, random_payment_payload
from webhooks.models import BankImitation

PAYLOAD_FIELDS = ("operation_id", "amount", "payer_inn", "document_number", "document_date")


def _balance_of(inn) -> str:
    try:
        return str(organization_balance_get(inn=str(inn)))
    except Organization.DoesNotExist:
        return "no organization with this INN (booked to unidentified receipts)"


def imitation_summary(imitation: BankImitation) -> dict:
    finished = imitation.finished_at is not None
    return {
        "id": imitation.pk,
        "payload": imitation.payload,
        "repeats": imitation.repeats,
        "signed": imitation.signed,
        "finished": finished,
        "attempts": imitation.attempts,
        "balance": _balance_of(imitation.payload.get("payer_inn")) if finished else None,
    }


class BankImitationForm(forms.Form):
    """Free-form fields: the imitation may send invalid data on purpose, to see a 400."""

    operation_id = forms.CharField(label=_("Operation id"), max_length=100)
    amount = forms.CharField(label=_("Amount"), max_length=50)
    payer_inn = forms.CharField(label=_("Payer INN"), max_length=50)
    document_number = forms.CharField(label=_("Document number"), max_length=128)
    document_date = forms.CharField(label=_("Document date"), max_length=50)
    repeats = forms.IntegerField(
        label=_("Repeats"),
        min_value=1,
        max_value=MAX_REPEATS,
        initial=1,
        help_text=_("Deliver the same body N times."),
    )


PERMISSION = "webhooks.run_bankimitation"


def _imitation_allowed(request) -> None:
    """404 while the imitation is off; 403 without its own permission."""
    if not settings.BANK_IMITATION_ENABLED:
        raise Http404("The bank imitation is off (BANK_IMITATION_ENABLED).")
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


@staff_member_required
def bank_imitation_page(request):
    _imitation_allowed(request)
    if request.method == "POST":
        form = BankImitationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            imitation = bank_imitation_start(
                payload={name: data[name] for name in PAYLOAD_FIELDS},
                repeats=data["repeats"],
                created_by=request.user,
            )
            return redirect(f"{reverse('bank-imitation-page')}?run={imitation.pk}")
    else:
        form = BankImitationForm(initial={**random_payment_payload(), "repeats": 1})
    runs = [imitation_summary(i) for i in BankImitation.objects.all()[:10]]
    pending = any(not run["finished"] for run in runs)
    return render(
        request,
        "webhooks/bank_imitation.html",
        {"form": form, "runs": runs, "pending": pending, "selected": request.GET.get("run")},
    )


class TypedTextField(serializers.CharField):
    """A string, as sent: another JSON type is refused (400), not turned into a string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [{"type": "string"}, {"type": "number"}],
        "description": "A JSON number or a numeric string, as the bank may send either.",
    }
)
class ImitationAmountField(serializers.Field):
    """The amount as the bank may send it: a JSON number or a string, passed on unvalidated
    (the webhook's 400 shows what is wrong with it). A fractional number is kept as its
    exact numeric string, which the webhook reads as the same amount. A string with a null
    or a lone surrogate character is refused, as every text field is: PostgreSQL's jsonb
    cannot store it."""

    default_error_messages = {"invalid": "A number or a string is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        if isinstance(data, str):
            for validator in (
                fields.ProhibitNullCharactersValidator(),
                fields.ProhibitSurrogateCharactersValidator(),
            ):
                validator(data)
        return str(data) if isinstance(data, Decimal) else data

    def to_representation(self, value):
        return value


class BankImitationInputSerializer(serializers.Serializer):
    operation_id = TypedTextField(required=False)
    amount = ImitationAmountField(required=False)
    payer_inn = TypedTextField(required=False)
    document_number = TypedTextField(required=False)
    document_date = TypedTextField(required=False)
    repeats = serializers.IntegerField(min_value=1, max_value=MAX_REPEATS, default=1)


class BankImitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    payload = serializers.DictField()
    repeats = serializers.IntegerField()
    signed = serializers.BooleanField()
    finished = serializers.BooleanField()
    attempts = serializers.ListField(child=serializers.DictField())
    balance = serializers.CharField(allow_null=True)


class BankImitationErrorSerializer(serializers.Serializer):
    """DRF's refusal: `detail`, or each invalid field with its messages."""

    detail = serializers.CharField(required=False)
    operation_id = serializers.ListField(child=serializers.CharField(), required=False)
    amount = serializers.ListField(child=serializers.CharField(), required=False)
    payer_inn = serializers.ListField(child=serializers.CharField(), required=False)
    document_number = serializers.ListField(child=serializers.CharField(), required=False)
    document_date = serializers.ListField(child=serializers.CharField(), required=False)
    repeats = serializers.ListField(child=serializers.CharField(), required=False)


IMITATION_REFUSALS = {
    403: OpenApiResponse(
        BankImitationErrorSerializer,
        description="Not a staff session with the imitation's permission (or no CSRF token).",
    ),
    404: OpenApiResponse(
        BankImitationErrorSerializer, description="The imitation is off, or no such run."
    ),
    503: OpenApiResponse(
        BankImitationErrorSerializer, description="Database unavailable (Retry-After)."
    ),
}


class CanRunBankImitation(permissions.BasePermission):
    """A staff session with the imitation's own permission, while the imitation is on."""

    def has_permission(self, request, view):
        _imitation_allowed(request)
        return bool(request.user and request.user.is_staff)


class _StaffOnly:
    authentication_classes = [SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated, CanRunBankImitation]


class BankImitationCreateView(_StaffOnly, APIView):
    @extend_schema(
        operation_id="bank_imitation_create",
        summary="Imitate the bank: deliver a payment to this service's webhook",
        description=(
            "Queues a Celery task that POSTs the payment to the webhook over HTTP, signed when a "
            "webhook secret is configured, `repeats` times, each retried with exponential "
            "backoff on connection errors and 5xx. Omitted fields are generated. Needs a "
            "staff session with the `webhooks.run_bankimitation` permission, and "
            "BANK_IMITATION_ENABLED."
        ),
        request=BankImitationInputSerializer,
        responses={
            202: BankImitationOutputSerializer,
            400: OpenApiResponse(BankImitationErrorSerializer, description="Invalid fields."),
            408: OpenApiResponse(
                BankImitationErrorSerializer, description="The body stalled before its end."
            ),
            **IMITATION_REFUSALS,
        },
        examples=[
            OpenApiExample(
                "Deliver the brief's payment twice",
                value={"payer_inn": "1234567890", "amount": "145000", "repeats": 2},
                request_only=True,
            )
        ],
        tags=["bank imitation"],
    )
    def post(self, request):
        serializer = BankImitationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        repeats = data.pop("repeats")
        payload = {**random_payment_payload(), **data}
        imitation = bank_imitation_start(payload=payload, repeats=repeats, created_by=request.user)
        return Response(
            BankImitationOutputSerializer(imitation_summary(imitation)).data, status=202
        )


class BankImitationDetailView(_StaffOnly, APIView):
    @extend_schema(
        operation_id="bank_imitation_retrieve",
        summary="What a bank imitation delivered, and the payer's balance after it",
        responses={200: BankImitationOutputSerializer, **IMITATION_REFUSALS},
        tags=["bank imitation"],
    )
    def get(self, request, pk: int):
        imitation = BankImitation.objects.filter(pk=pk).first()
        if imitation is None:
            return Response({"detail": "Not found."}, status=404)
        return Response(BankImitationOutputSerializer(imitation_summary(imitation)).data)
