"""The API's contract fuzzed with schemathesis against the app under gunicorn, with the
secure defaults: signatures required, API keys required (tests/fuzz/contract.py).

The suite runs a short fuzz (FUZZ_EXAMPLES cases per operation, credential variant and
generation mode; 10 by default, about 300 cases with the stateful steps). The long run is
the same test with more cases (docs/fuzzing.md):

    FUZZ_EXAMPLES=120 FUZZ_STATEFUL_STEPS=600 .venv/bin/python -m pytest -s tests/fuzz/test_contract.py
"""

import os

import pytest
from django.conf import settings
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from organizations.models import ApiKeyScope
from organizations.services import api_key_issue, organization_create
from tests.books import assert_books_balanced
from tests.fuzz.contract import Credentials, contract_fuzz
from tests.servers import database_url_of, gunicorn_server
from webhooks.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "fuzz-webhook-secret-0123456789abcdef"
SEED = int(os.environ.get("FUZZ_SEED", "20240427"))


def _credentials() -> Credentials:
    from django.contrib.auth.models import Permission, User

    inns = ("1234567890", "500100732259")
    organizations = [
        organization_create(inn=inn, name=f"Fuzz {n}") for n, inn in enumerate(inns, start=1)
    ]
    _, key = api_key_issue(
        name="fuzz",
        organizations=organizations,
        scopes=[ApiKeyScope.BALANCES, ApiKeyScope.STATEMENT_IMPORT],
    )
    staff = User.objects.create_user("fuzz-staff", password="fuzz-pass-0123", is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="run_bankimitation"),
        Permission.objects.get(codename="import_bankstatement"),
    )
    client = Client()
    client.force_login(staff)
    return Credentials(
        webhook_secret=SECRET,
        api_key=key,
        session_id=client.cookies[settings.SESSION_COOKIE_NAME].value,
        csrf_token=_get_new_csrf_string(),
        inns=inns,
    )


def test_fuzzed_contract_gives_no_5xx_and_no_schema_violation(tmp_path):
    credentials = _credentials()
    env = {
        "WEBHOOK_SECRETS": SECRET,
        "WEBHOOK_ALLOW_UNSIGNED": "false",
        "API_AUTH_REQUIRED": "true",
        "BANK_IMITATION_ENABLED": "true",
        # Every rejected delivery reaches the validators instead of the source's 429.
        "WEBHOOK_REJECTED_RATE": "100000/min",
        # The imitation's tasks stay in a broker of this test's own; no worker runs them.
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_BROKER_DIR": str(tmp_path / "celery"),
    }
    examples = int(os.environ.get("FUZZ_EXAMPLES", "10"))
    steps = int(os.environ.get("FUZZ_STATEFUL_STEPS", "60"))
    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict), workers=2, env=env
    ) as url:
        figures = contract_fuzz(
            url, credentials=credentials, examples=examples, stateful_steps=steps, seed=SEED
        )
    print(f"\ncontract fuzz (seed {SEED}): {figures.summary()}")
    for variant, count in sorted(figures.per_variant.items()):
        print(f"  {count:5d}  {variant}")

    assert figures.server_errors == [], "\n".join(figures.server_errors)
    assert figures.violations == [], "\n".join(figures.violations)
    assert figures.transport_errors == [], "\n".join(figures.transport_errors)
    # Each variant reached its operation: the signed webhook booked, the key read balances.
    assert figures.statuses[200] > 0 and figures.statuses[401] > 0
    assert Payment.objects.exists()
    assert_books_balanced()
