"""JSON plumbing shared by the API: money travels as JSON numbers, never through float."""

import json
from decimal import Decimal

import simplejson
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, UnreadablePostError
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

DATABASE_RETRY_AFTER_SECONDS = 5


class JSONBodyError(ValueError):
    """The request body is not a JSON document we accept."""


def _reject_constant(name: str) -> None:
    raise JSONBodyError(f"{name} is not a valid JSON number")


def _object_without_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    # With duplicates, parsers disagree on which value counts (here the last would win):
    # refuse the document rather than book a value the sender may not have meant.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise JSONBodyError(f"Duplicate key {duplicate!r} in a JSON object")
    return result


def json_loads_decimal(raw: bytes | str):
    """Parse JSON with every non-integer number as Decimal; NaN and Infinity, and objects
    with duplicate keys, are refused."""
    try:
        return json.loads(
            raw,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_without_duplicate_keys,
        )
    except JSONBodyError:
        raise
    except RecursionError as exc:
        raise JSONBodyError("Malformed JSON: nested too deeply") from exc
    except ValueError as exc:  # includes JSONDecodeError, UnicodeDecodeError
        raise JSONBodyError(f"Malformed JSON: {exc}") from exc


class DecimalJSONParser(JSONParser):
    """DRF's JSON parser, with numbers parsed straight to Decimal."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_loads_decimal(stream.read())
        except JSONBodyError as exc:
            raise ParseError(str(exc)) from exc


class DecimalJSONRenderer(JSONRenderer):
    """Render Decimal values as JSON numbers, digit for digit (simplejson's use_decimal)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return simplejson.dumps(
            data, use_decimal=True, ensure_ascii=False, separators=(",", ":"), default=str
        ).encode()


class FirstRenderer(BaseContentNegotiation):
    """Content negotiation for views with one renderer: that one, whatever Accept says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def amount_for_json(value: Decimal) -> Decimal:
    """Whole amounts as integers (145000), others with exactly two decimals (0.30)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.quantize(Decimal("0.01"))


class AmountField(serializers.DecimalField):
    """A money amount, rendered as an exact JSON number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 38)
        kwargs.setdefault("decimal_places", 2)
        kwargs["coerce_to_string"] = False
        super().__init__(**kwargs)

    def to_representation(self, value):
        return amount_for_json(Decimal(value))


DATABASE_UNAVAILABLE = {"detail": "The database is unavailable; retry later."}


def json_response(data, *, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """A JSON answer rendered as the API renders (Decimal digit for digit), for views that
    answer without DRF's response machinery."""
    return HttpResponse(
        DecimalJSONRenderer().render(data),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def database_unavailable_response() -> HttpResponse:
    return json_response(
        DATABASE_UNAVAILABLE,
        status=503,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def exception_handler(exc, context):
    """DRF's handler, plus 503 with Retry-After when the database is unreachable."""
    if isinstance(exc, UnreadablePostError):  # the body stalled (common/handlers.py)
        return Response({"detail": f"The body was not received in time: {exc}"}, status=408)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return Response(
            DATABASE_UNAVAILABLE,
            status=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    # Imported here: rest_framework.views reads the renderer setting, which names this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    return drf_exception_handler(exc, context)


def not_found(request, exception):
    """handler404: JSON under /api/ (an API client never gets an HTML page, even for a path
    that matches no route, such as /api/v1/bank-imitation/-1/), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return json_response({"detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
