"""The bank webhook's body: its fields' rules, written once, for the validator and Swagger.

The intake validates in plain Python: a DRF serializer deep-copies its fields on every
request, which on this path cost more CPU than the rest of the view. The messages are DRF's
own wording, so a client sees the same errors it would from any other field of the API.
"""

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.dateparse import parse_datetime

from common.validators import refused_character
from organizations.inn import INN_FORMAT_MESSAGE, INN_PATTERN

MAX_AMOUNT = Decimal("9999999999999999.99")  # numeric(18, 2): what a line can hold
AMOUNT_MAX_DIGITS = 18
AMOUNT_DECIMAL_PLACES = 2
DOCUMENT_NUMBER_MAX_LENGTH = 128

# A document_date without an offset is a wall-clock time of the service's time zone (the
# bank's, Moscow by default), whatever time zone a request may have activated.
DOCUMENT_DATE_ZONE = ZoneInfo(settings.TIME_ZONE)
_MIDNIGHT_THERE = datetime(2024, 4, 28, tzinfo=DOCUMENT_DATE_ZONE)
DOCUMENT_DATE_HELP = (
    "Payment document date, ISO 8601: a date-time, or a date alone (its midnight). Without "
    f"an offset it is read in the service's time zone, {settings.TIME_ZONE} (DJANGO_TIME_ZONE):"
    " 2024-04-28T00:00:00 and 2024-04-28 are "
    f"{_MIDNIGHT_THERE.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}. A repeat that writes the same "
    "instant another way is a duplicate, not a conflict."
)

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."


class Invalid(ValueError):
    """One field's value is refused, with the message for the client."""


class PayloadInvalid(ValueError):
    """The body is refused: {field: [messages]}, or {"non_field_errors": [...]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _text(value, *, max_length: int) -> str:
    if not isinstance(value, str):
        raise Invalid("Must be a string.")
    if "\x00" in value:
        raise Invalid("Null characters are not allowed.")
    if any(unicodedata.category(char) == "Cs" for char in value):
        raise Invalid("Surrogate characters are not allowed.")
    value = value.strip()
    if not value:
        raise Invalid("This field may not be blank.")
    if len(value) > max_length:
        raise Invalid(f"Ensure this field has no more than {max_length} characters.")
    return value


def operation_id_parse(value) -> uuid.UUID:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise Invalid("Must be a valid UUID.")


def amount_parse(value) -> Decimal:
    """Roubles as a JSON number or a numeric string, exact: > 0, at most two decimals, at
    most PAYMENT_MAX_AMOUNT."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise Invalid("A valid number is required.")
    text = str(value).strip()
    if len(text) > 1000:
        raise Invalid("String value too large.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid("A valid number is required.") from None
    if not amount.is_finite():
        raise Invalid("A valid number is required.")
    _, digits, exponent = amount.as_tuple()
    if exponent >= 0:
        total, decimals = len(digits) + exponent, 0
    else:
        total, decimals = max(len(digits), -exponent), -exponent
    whole = total - decimals
    if total > AMOUNT_MAX_DIGITS:
        raise Invalid(f"Ensure that there are no more than {AMOUNT_MAX_DIGITS} digits in total.")
    if decimals > AMOUNT_DECIMAL_PLACES:
        raise Invalid(f"Ensure that there are no more than {AMOUNT_DECIMAL_PLACES} decimal places.")
    if whole > AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES:
        raise Invalid(
            f"Ensure that there are no more than {AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES}"
            " digits before the decimal point."
        )
    amount = amount.quantize(Decimal("0.01"))
    if amount < Decimal("0.01"):
        raise Invalid("Ensure this value is greater than or equal to 0.01.")
    limit = min(settings.PAYMENT_MAX_AMOUNT, MAX_AMOUNT)
    if amount > limit:
        raise Invalid(f"Ensure this value is less than or equal to {limit}.")
    return amount


def payer_inn_parse(value) -> str:
    inn = _text(value, max_length=12)
    if not INN_PATTERN.search(inn):
        raise Invalid(INN_FORMAT_MESSAGE)
    return inn


def document_number_parse(value) -> str:
    number = _text(value, max_length=DOCUMENT_NUMBER_MAX_LENGTH)
    char = refused_character(number)
    if char is not None:
        raise Invalid(f"Must not contain control or format characters (found U+{ord(char):04X}).")
    return number


_DATE_FORMAT_MESSAGE = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
_DATE_ONLY = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")


def document_date_parse(value) -> datetime:
    if isinstance(value, str):
        try:
            moment = parse_datetime(value)
            if moment is None and _DATE_ONLY.match(value):
                moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=DOCUMENT_DATE_ZONE)
            return moment.astimezone(DOCUMENT_DATE_ZONE)
    raise Invalid(_DATE_FORMAT_MESSAGE)


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable
    schema: dict


FIELDS = (
    Field(
        "operation_id",
        operation_id_parse,
        {"type": "string", "format": "uuid",
         "description": "The bank's unique id of the operation (UUID)."},
    ),
    Field(
        "amount",
        amount_parse,
        # No float in the schema either: the bounds are in words.
        {"type": "number", "format": "decimal", "minimum": 0, "exclusiveMinimum": True,
         "description": "Amount in roubles: a JSON number or numeric string, > 0, at most 2 "
         "decimals, at most PAYMENT_MAX_AMOUNT (1,000,000,000.00 unless configured)."},
    ),
    Field(
        "payer_inn",
        payer_inn_parse,
        {"type": "string", "pattern": "^([0-9]{10}|[0-9]{12})$",
         "description": "Payer's INN: a string of 10 or 12 digits."},
    ),
    Field(
        "document_number",
        document_number_parse,
        {"type": "string", "minLength": 1, "maxLength": DOCUMENT_NUMBER_MAX_LENGTH,
         "description": "Payment document number (no control or format characters)."},
    ),
    Field(
        "document_date",
        document_date_parse,
        {"type": "string", "format": "date-time", "description": DOCUMENT_DATE_HELP},
    ),
)  # fmt: skip

REQUEST_SCHEMA = {
    "type": "object",
    "required": [field.name for field in FIELDS],
    "properties": {field.name: field.schema for field in FIELDS},
    "additionalProperties": True,
    "description": "Unknown extra fields are ignored.",
}


def payment_fields_parse(data) -> dict:
    """The validated fields of a parsed JSON body; raises PayloadInvalid with every
    field's messages."""
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "null"
        raise PayloadInvalid(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    values, errors = {}, {}
    for field in FIELDS:
        if field.name not in data:
            errors[field.name] = [REQUIRED]
            continue
        value = data[field.name]
        if value is None:
            errors[field.name] = [NOT_NULL]
            continue
        try:
            values[field.name] = field.parse(value)
        except Invalid as exc:
            errors[field.name] = [str(exc)]
    if errors:
        raise PayloadInvalid(errors)
    return values
