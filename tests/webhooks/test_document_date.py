"""`document_date` without an offset is Moscow time (the service's DJANGO_TIME_ZONE).

The brief's example, 2024-04-27T21:00:00Z, is the 28th of April in Moscow: the bank's
document day. A bank that leaves out the offset writes its own wall-clock time, so the
service reads it there, not in UTC.
"""

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from django.utils import timezone

from tests.factories import OrganizationFactory
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook
from webhooks.models import Delivery, DeliveryResult, Payment
from webhooks.payload import document_date_parse

BRIEF_INSTANT = datetime(2024, 4, 27, 21, 0, tzinfo=UTC)
SAME_INSTANT = {
    "utc": "2024-04-27T21:00:00Z",
    "moscow-offset": "2024-04-28T00:00:00+03:00",
    "no-offset": "2024-04-28T00:00:00",
    "date-only": "2024-04-28",
    "other-offset": "2024-04-27T23:00:00+02:00",
}


def test_the_service_time_zone_is_moscow(settings):
    assert settings.TIME_ZONE == "Europe/Moscow"


@pytest.mark.parametrize("written", SAME_INSTANT.values(), ids=list(SAME_INSTANT))
def test_each_way_of_writing_the_brief_date_is_the_same_instant(written):
    parsed = document_date_parse(written)

    assert parsed == BRIEF_INSTANT
    assert parsed.utcoffset() == timedelta(hours=3)


def test_a_date_time_without_offset_is_not_read_as_utc():
    assert document_date_parse("2024-04-27T21:00:00") == datetime(2024, 4, 27, 18, tzinfo=UTC)


def test_the_reading_does_not_follow_a_time_zone_a_request_activated():
    with timezone.override("America/New_York"):
        assert document_date_parse("2024-04-28T00:00:00") == BRIEF_INSTANT


@pytest.mark.django_db
@pytest.mark.parametrize("written", SAME_INSTANT.values(), ids=list(SAME_INSTANT))
def test_a_payment_dated_without_offset_is_stored_at_the_moscow_instant(client, written):
    OrganizationFactory(inn="1234567890")

    response = post_webhook(client, {**BRIEF_PAYLOAD, "document_date": written})

    assert response.json()["result"] == "booked"
    assert Payment.objects.get().document_date == BRIEF_INSTANT


@pytest.mark.django_db
@pytest.mark.parametrize(
    "written", ["2024-04-28T00:00:00", "2024-04-28"], ids=["no-offset", "date-only"]
)
def test_a_repeat_writing_the_same_instant_without_offset_is_a_duplicate(client, written):
    OrganizationFactory(inn="1234567890")
    assert post_webhook(client, BRIEF_PAYLOAD).json()["result"] == "booked"

    response = post_webhook(client, {**BRIEF_PAYLOAD, "document_date": written})

    assert response.json()["result"] == "duplicate"
    assert Payment.objects.count() == 1
    assert not Delivery.objects.filter(result=DeliveryResult.CONFLICT).exists()


@pytest.mark.django_db
def test_a_repeat_with_the_utc_wall_clock_but_no_offset_is_a_conflict(client):
    OrganizationFactory(inn="1234567890")
    post_webhook(client, BRIEF_PAYLOAD)

    # 21:00 without an offset is 21:00 in Moscow, three hours after the booked instant.
    response = post_webhook(client, {**BRIEF_PAYLOAD, "document_date": "2024-04-27T21:00:00"})

    assert response.json()["result"] == "conflict"
    assert Payment.objects.get().document_date == BRIEF_INSTANT


def test_swagger_documents_the_reading_without_offset(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    body = schema["paths"]["/api/v1/webhook/bank/"]["post"]["requestBody"]
    document_date = body["content"]["application/json"]["schema"]["properties"]["document_date"]
    assert document_date["format"] == "date-time"
    description = document_date["description"]
    assert "Europe/Moscow (DJANGO_TIME_ZONE)" in description
    assert "2024-04-28T00:00:00 and 2024-04-28 are 2024-04-27T21:00:00Z" in description
    assert "is a duplicate, not a conflict" in description
