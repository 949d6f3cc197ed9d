from decimal import Decimal

import pytest

from accounting.models import BalanceChange, JournalEntry
from tests.webhooks.helpers import BRIEF_PAYLOAD, WEBHOOK_URL, dumps, post_webhook
from webhooks.models import Delivery, DeliveryResult, Payment

pytestmark = pytest.mark.django_db


def _without(field):
    return {key: value for key, value in BRIEF_PAYLOAD.items() if key != field}


# (payload, field named in the error)
INVALID_PAYLOADS = {
    "amount_zero": ({**BRIEF_PAYLOAD, "amount": 0}, "amount"),
    "amount_negative": ({**BRIEF_PAYLOAD, "amount": -5}, "amount"),
    "amount_three_decimals": ({**BRIEF_PAYLOAD, "amount": "10.005"}, "amount"),
    "amount_three_decimals_number": ('{"amount": 1.999}', "amount"),
    "amount_huge": ({**BRIEF_PAYLOAD, "amount": 10**30}, "amount"),
    "amount_huge_exponent": ({**BRIEF_PAYLOAD, "amount": "1e999999"}, "amount"),
    "amount_text": ({**BRIEF_PAYLOAD, "amount": "a lot"}, "amount"),
    "amount_null": ({**BRIEF_PAYLOAD, "amount": None}, "amount"),
    "amount_bool": ({**BRIEF_PAYLOAD, "amount": True}, "amount"),
    "amount_list": ({**BRIEF_PAYLOAD, "amount": [1]}, "amount"),
    "amount_nan_string": ({**BRIEF_PAYLOAD, "amount": "NaN"}, "amount"),
    "amount_infinity_string": ({**BRIEF_PAYLOAD, "amount": "Infinity"}, "amount"),
    "amount_missing": (_without("amount"), "amount"),
    "operation_id_not_uuid": ({**BRIEF_PAYLOAD, "operation_id": "not-a-uuid"}, "operation_id"),
    "operation_id_integer": ({**BRIEF_PAYLOAD, "operation_id": 12345}, "operation_id"),
    "operation_id_null": ({**BRIEF_PAYLOAD, "operation_id": None}, "operation_id"),
    "operation_id_missing": (_without("operation_id"), "operation_id"),
    "inn_with_letters": ({**BRIEF_PAYLOAD, "payer_inn": "12345abcde"}, "payer_inn"),
    "inn_eleven_digits": ({**BRIEF_PAYLOAD, "payer_inn": "12345678901"}, "payer_inn"),
    "inn_nine_digits": ({**BRIEF_PAYLOAD, "payer_inn": "123456789"}, "payer_inn"),
    "inn_unicode_digits": ({**BRIEF_PAYLOAD, "payer_inn": "١٢٣٤٥٦٧٨٩٠"}, "payer_inn"),
    "inn_as_number": ({**BRIEF_PAYLOAD, "payer_inn": 1234567890}, "payer_inn"),
    "inn_null": ({**BRIEF_PAYLOAD, "payer_inn": None}, "payer_inn"),
    "inn_missing": (_without("payer_inn"), "payer_inn"),
    "document_number_empty": ({**BRIEF_PAYLOAD, "document_number": ""}, "document_number"),
    "document_number_object": ({**BRIEF_PAYLOAD, "document_number": {"a": 1}}, "document_number"),
    "document_number_nul": ({**BRIEF_PAYLOAD, "document_number": "PAY\x00"}, "document_number"),
    "document_number_too_long": (
        {**BRIEF_PAYLOAD, "document_number": "X" * 129},
        "document_number",
    ),
    "document_date_bad": ({**BRIEF_PAYLOAD, "document_date": "27.04.2024"}, "document_date"),
    "document_date_impossible": (
        {**BRIEF_PAYLOAD, "document_date": "2024-02-30T00:00:00Z"},
        "document_date",
    ),
    "document_date_number": ({**BRIEF_PAYLOAD, "document_date": 1714251600}, "document_date"),
    "document_date_missing": (_without("document_date"), "document_date"),
    "json_array": ("[1, 2, 3]", "non_field_errors"),
    "json_string": ('"hello"', "non_field_errors"),
    "json_null": ("null", "non_field_errors"),
    "empty_object": ("{}", "operation_id"),
    "empty_body": ("", "body"),
    "not_json": ("operation_id=1&amount=2", "body"),
    "truncated_json": ('{"operation_id": "ccf0a86d', "body"),
    "nan_literal": ('{"amount": NaN}', "body"),
    "infinity_literal": ('{"amount": Infinity}', "body"),
    "deeply_nested": ("[" * 30_000 + "]" * 30_000, "body"),
    "invalid_utf8": (b'{"amount": "\xff\xfe"}', "body"),
}


@pytest.mark.parametrize(
    ("payload", "field"), list(INVALID_PAYLOADS.values()), ids=list(INVALID_PAYLOADS)
)
def test_invalid_input_is_400_naming_the_field_and_books_nothing(client, payload, field):
    response = post_webhook(client, payload)

    assert response.status_code == 400
    assert field in response.json()
    assert Payment.objects.count() == 0
    assert JournalEntry.objects.count() == 0
    assert BalanceChange.objects.count() == 0
    rejected = Delivery.objects.get()
    assert rejected.result == DeliveryResult.REJECTED
    assert rejected.http_status == 400
    assert field in rejected.errors


def test_invalid_repeat_leaves_the_booked_payment_untouched(client):
    post_webhook(client, BRIEF_PAYLOAD)

    response = post_webhook(client, {**BRIEF_PAYLOAD, "amount": -1})

    assert response.status_code == 400
    payment = Payment.objects.get()
    assert payment.amount.amount == 145000
    assert Delivery.objects.filter(result=DeliveryResult.REJECTED).get().operation_id == (
        payment.operation_id
    )


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(client, content_type):
    response = client.post(WEBHOOK_URL, data=dumps(BRIEF_PAYLOAD), content_type=content_type)

    assert response.status_code == 415
    assert response.json() == {"detail": "Content-Type must be application/json."}
    assert Payment.objects.count() == 0
    assert JournalEntry.objects.count() == 0
    rejected = Delivery.objects.get()
    assert (rejected.result, rejected.http_status) == (DeliveryResult.REJECTED, 415)
    assert rejected.errors == {"detail": "Content-Type must be application/json."}
    assert rejected.remote_addr == "127.0.0.1"
    assert rejected.headers.get("Content-Type", "") == content_type
    assert rejected.raw_body == ""  # a body of another type is refused unread


def test_json_content_type_with_charset_is_accepted(client):
    response = client.post(
        WEBHOOK_URL, data=dumps(BRIEF_PAYLOAD), content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 200


def test_body_over_the_limit_is_413(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 256
    payload = {**BRIEF_PAYLOAD, "padding": "x" * 300}

    response = post_webhook(client, payload)

    assert response.status_code == 413
    assert Payment.objects.count() == 0
    assert Delivery.objects.get().http_status == 413


def test_unknown_extra_fields_are_ignored(client):
    response = post_webhook(client, {**BRIEF_PAYLOAD, "purpose": "invoice 42"})

    assert response.status_code == 200


def test_body_larger_than_django_buffers_is_413_whatever_the_webhook_limit(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 10 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = post_webhook(client, {**BRIEF_PAYLOAD, "padding": "x" * 200})

    assert response.status_code == 413
    assert Payment.objects.count() == 0


def test_duplicate_keys_are_a_400_naming_the_key(client):
    body = (
        '{"operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a", "amount": 1, "amount": 1000000,'
    )
    body += ' "payer_inn": "1234567890", "document_number": "PAY-1",'
    body += ' "document_date": "2024-04-27T21:00:00Z"}'

    response = post_webhook(client, body)

    assert response.status_code == 400
    assert "Duplicate key 'amount'" in response.json()["body"][0]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    "number", ["PAY\u202e823", "PAY\u200b1", "PAY\u20661\u2069", "PAY\r\n1", "PAY\u20281"]
)
def test_control_and_format_characters_are_refused_in_text(client, number):
    response = post_webhook(client, {**BRIEF_PAYLOAD, "document_number": number})

    assert response.status_code == 400
    assert "control or format" in response.json()["document_number"][0]
    assert Payment.objects.count() == 0


def test_amount_over_the_configured_maximum_is_a_recorded_400(client, settings):
    settings.PAYMENT_MAX_AMOUNT = Decimal("1000.00")

    over = post_webhook(client, {**BRIEF_PAYLOAD, "amount": "1000.01"})
    at = post_webhook(client, {**BRIEF_PAYLOAD, "amount": "1000.00"})

    assert over.status_code == 400
    assert "1000.00" in over.json()["amount"][0]
    assert at.status_code == 200
    assert Delivery.objects.filter(result=DeliveryResult.REJECTED, http_status=400).count() == 1


def test_default_maximum_is_one_billion(client):
    assert post_webhook(client, {**BRIEF_PAYLOAD, "amount": "1000000000.01"}).status_code == 400
    assert post_webhook(client, {**BRIEF_PAYLOAD, "amount": "1000000000.00"}).status_code == 200
