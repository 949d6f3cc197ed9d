"""The bank imitation delivers over real HTTP to the app under gunicorn."""

import json
from decimal import Decimal

import pytest
from django.db import connection

from organizations.services import organization_create
from tests.servers import database_url_of, free_port, gunicorn_server
from tests.workers import celery_worker, purge_broker, wait_for
from webhooks.imitation import bank_imitation_deliver, random_payment_payload
from webhooks.models import BankImitation, Delivery, DeliveryResult, Payment

BRIEF = {
    "operation_id": "ccf0a86d-041b-4991-bcf7-e2352f7b8a4a",
    "amount": "145000",
    "payer_inn": "1234567890",
    "document_number": "PAY-328",
    "document_date": "2024-04-27T21:00:00Z",
}


def _imitation(payload=None, repeats=1) -> BankImitation:
    return BankImitation.objects.create(payload=payload or BRIEF, repeats=repeats)


@pytest.mark.django_db(transaction=True)
def test_repeated_imitation_books_once_and_answers_every_delivery(app_server, settings):
    settings.BANK_IMITATION_WEBHOOK_URL = app_server + "/api/v1/webhook/bank/"
    organization_create(inn="1234567890", name="Acme")

    done = bank_imitation_deliver(imitation=_imitation(repeats=3))

    assert [a["status"] for a in done.attempts] == [200, 200, 200]
    assert [json.loads(a["body"])["result"] for a in done.attempts] == [
        "booked",
        "duplicate",
        "duplicate",
    ]
    assert Payment.objects.count() == 1
    assert done.finished_at is not None


SHARED = "shared-secret-of-the-bank-and-the-service"
STANDARD_SHARED = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("scheme", "secret"), [("x-bank", SHARED), ("standard", STANDARD_SHARED)])
def test_imitation_signs_its_deliveries_with_the_configured_scheme(settings, scheme, secret):
    settings.BANK_IMITATION_SIGNATURE_SCHEME = scheme
    settings.WEBHOOK_SECRETS = [secret]
    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict),
        workers=1,
        env={"WEBHOOK_SECRETS": secret},
    ) as url:
        settings.BANK_IMITATION_WEBHOOK_URL = url + "/api/v1/webhook/bank/"
        signed = bank_imitation_deliver(imitation=_imitation())
        settings.WEBHOOK_SECRETS = ["another-secret-the-service-does-not-know"]
        unsigned = bank_imitation_deliver(
            imitation=_imitation({**BRIEF, "operation_id": "0b5b7b0e-8a39-4f0c-9c43-6a6c2f2b6c11"})
        )

    assert [a["status"] for a in signed.attempts] == [200]
    assert [a["status"] for a in unsigned.attempts] == [401]  # 4xx is final: no retry
    assert Delivery.objects.filter(result=DeliveryResult.UNIDENTIFIED).count() == 1


@pytest.mark.django_db
def test_unreachable_webhook_is_retried_with_exponential_backoff(settings):
    settings.BANK_IMITATION_WEBHOOK_URL = f"http://127.0.0.1:{free_port()}/api/v1/webhook/bank/"
    settings.BANK_IMITATION_MAX_ATTEMPTS = 4
    settings.BANK_IMITATION_BACKOFF_SECONDS = 0.5
    pauses = []

    done = bank_imitation_deliver(imitation=_imitation(), sleep=pauses.append)

    assert [a["status"] for a in done.attempts] == [None] * 4
    assert all("refused" in a["error"].lower() for a in done.attempts)
    assert pauses == [0.5, 1.0, 2.0]


@pytest.mark.django_db(transaction=True)
def test_503_from_the_webhook_is_retried(settings):
    with gunicorn_server(
        database_url=f"postgres://postgres@127.0.0.1:{free_port()}/nothing", workers=1
    ) as url:
        settings.BANK_IMITATION_WEBHOOK_URL = url + "/api/v1/webhook/bank/"
        settings.BANK_IMITATION_MAX_ATTEMPTS = 3
        done = bank_imitation_deliver(imitation=_imitation(), sleep=lambda _: None)

    assert [a["status"] for a in done.attempts] == [503, 503, 503]


@pytest.mark.django_db
def test_page_requires_staff(client):
    response = client.get("/swagger/webhook/bank/imitation/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_page_offers_a_random_payment_for_a_known_organization(admin_client):
    organization_create(inn="7707083893", name="Known")

    page = admin_client.get("/swagger/webhook/bank/imitation/")

    assert page.status_code == 200
    assert page.context["form"].initial["payer_inn"] == "7707083893"
    assert Decimal(page.context["form"].initial["amount"]) > 0


def test_random_payload_passes_the_webhook_validation(db):
    from webhooks.payload import payment_fields_parse

    fields = payment_fields_parse(random_payment_payload())  # raises PayloadInvalid if not

    assert fields["amount"] > 0


@pytest.mark.django_db(transaction=True)
def test_page_delivers_through_a_real_worker_and_shows_the_balance(
    admin_client, app_server, tmp_path
):
    organization_create(inn="1234567890", name="Acme")
    purge_broker()
    webhook_url = app_server + "/api/v1/webhook/bank/"
    with celery_worker(
        database_url=database_url_of(connection.settings_dict),
        log_path=tmp_path / "worker.log",
        env={"BANK_IMITATION_WEBHOOK_URL": webhook_url},
    ):
        response = admin_client.post("/swagger/webhook/bank/imitation/", {**BRIEF, "repeats": 2})
        assert response.status_code == 302
        imitation = BankImitation.objects.get()
        wait_for(
            lambda: BankImitation.objects.get().finished_at, timeout=60, what="imitation delivered"
        )

    page = admin_client.get(response["Location"])
    run = page.context["runs"][0]
    assert run["id"] == imitation.pk
    assert [a["status"] for a in run["attempts"]] == [200, 200]
    assert run["balance"] == "145000.00"


@pytest.mark.django_db
def test_imitation_is_off_unless_enabled(admin_client, settings):
    settings.BANK_IMITATION_ENABLED = False

    assert admin_client.get("/swagger/webhook/bank/imitation/").status_code == 404
    assert (
        admin_client.post("/api/v1/bank-imitation/", {}, content_type="application/json")
    ).status_code == 404
    assert BankImitation.objects.count() == 0


@pytest.mark.django_db
def test_accountants_cannot_use_the_imitation(accountant):
    page = accountant.get("/swagger/webhook/bank/imitation/")
    api = accountant.post(
        "/api/v1/bank-imitation/", {"payer_inn": "1234567890"}, content_type="application/json"
    )

    assert page.status_code == 403
    assert api.status_code == 403
    assert BankImitation.objects.count() == 0


@pytest.mark.django_db
def test_api_needs_a_staff_session_with_the_imitation_permission(
    client, admin_client, django_capture_on_commit_callbacks
):
    anonymous = client.post("/api/v1/bank-imitation/", {}, content_type="application/json")
    basic = client.post(
        "/api/v1/bank-imitation/",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic YWRtaW46cGFzc3dvcmQ=",  # basic auth is not accepted
    )

    assert anonymous.status_code == 403
    assert basic.status_code == 403

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            "/api/v1/bank-imitation/",
            {"payer_inn": "1234567890", "repeats": 2},
            content_type="application/json",
        )

    assert response.status_code == 202
    body = response.json()
    assert body["repeats"] == 2 and body["payload"]["payer_inn"] == "1234567890"
    assert body["finished"] is False
    assert len(callbacks) == 1  # the delivery task is queued once the row commits
    detail = admin_client.get(f"/api/v1/bank-imitation/{body['id']}/")
    assert detail.json()["id"] == body["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["operation_id", "payer_inn", "document_number", "document_date"])
def test_api_refuses_a_text_field_sent_as_another_json_type(admin_client, field):
    # Found by the contract fuzz: 193771841707336 was turned into a string and sent.
    response = admin_client.post(
        "/api/v1/bank-imitation/", {field: 193771841707336}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {field: ["Not a valid string."]}
    assert BankImitation.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "sent"), [(145000, 145000), (10.5, "10.5"), ("145000.00", "145000.00")]
)
def test_api_passes_the_amount_on_as_a_number_or_a_string(admin_client, amount, sent):
    response = admin_client.post(
        "/api/v1/bank-imitation/", {"amount": amount}, content_type="application/json"
    )

    assert response.status_code == 202
    assert response.json()["payload"]["amount"] == sent
    assert BankImitation.objects.get().payload["amount"] == sent


@pytest.mark.django_db
def test_api_refuses_an_amount_that_is_neither_number_nor_string(admin_client):
    response = admin_client.post(
        "/api/v1/bank-imitation/", {"amount": True}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"amount": ["A number or a string is required."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("6\x00H", "Null characters are not allowed."),
        ("1\ud800", "Surrogate characters are not allowed: U+D800."),
    ],
)
def test_api_refuses_an_amount_string_the_database_cannot_store(admin_client, amount, message):
    # Found by the contract fuzz: a null character in the amount was a 500 (jsonb refuses it).
    body = json.dumps({"amount": amount})

    response = admin_client.post("/api/v1/bank-imitation/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"amount": [message]}
    assert BankImitation.objects.count() == 0
