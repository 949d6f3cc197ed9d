"""The Russian translation: compiled, complete, used by the admin and never by the API."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from common import translations
from common.exports import Sheet, csv_bytes
from organizations.services import organization_create
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook

TRANSLATED_NAMES_MIGRATIONS = [
    ("accounting", "0011_translated_names"),
    ("bankstatements", "0002_translated_names"),
    ("organizations", "0003_translated_names"),
    ("reconciliation", "0005_translated_names"),
    ("webhooks", "0010_translated_names"),
]


def test_compiled_catalogue_is_up_to_date_with_its_po():
    assert translations.catalogues(), "no locale/*/LC_MESSAGES/django.po"
    assert translations.stale() == []


def test_every_string_of_the_po_is_translated():
    import polib

    for po_path in translations.catalogues():
        po = polib.pofile(str(po_path))
        assert [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()] == []


@pytest.mark.django_db
def test_translated_names_migrations_change_no_sql():
    executor = MigrationExecutor(connection)
    for key in TRANSLATED_NAMES_MIGRATIONS:
        migration = executor.loader.graph.nodes[key]
        state = executor.loader.project_state(key, at_end=False)
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            migration.apply(state, editor, collect_sql=True)
        assert [sql for sql in editor.collected_sql if not sql.startswith("--")] == [], key


def test_the_service_speaks_russian_by_default(settings):
    assert settings.LANGUAGE_CODE == "ru"
    with translation.override("ru"):
        from accounting.models import JournalEntry

        assert str(JournalEntry._meta.verbose_name_plural) == "проводки"


@pytest.mark.django_db
def test_admin_speaks_russian_and_english_on_request(accountant):
    russian = accountant.get("/admin/accounting/journalentry/")
    english = accountant.get("/admin/accounting/journalentry/", HTTP_ACCEPT_LANGUAGE="en")

    assert russian["Content-Language"] == "ru"
    assert "Проводки" in russian.text and "Выгрузить выбранные проводки в CSV" in russian.text
    assert english["Content-Language"] == "en"
    assert "Export selected entries to CSV" in english.text


def _cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


@pytest.mark.django_db
def test_api_errors_stay_english_under_russian(client, settings):
    """DRF's and Django's own messages would be Russian here (both ship a translation)."""
    organization_create(inn="1234567890", name="Acme")
    assert settings.LANGUAGE_CODE == "ru"

    webhook = post_webhook(client, {**BRIEF_PAYLOAD, "amount": "abc"}, HTTP_ACCEPT_LANGUAGE="ru")
    statement = client.get(
        "/api/v1/organizations/1234567890/statement/?page=abc&from=xx", HTTP_ACCEPT_LANGUAGE="ru"
    )
    upload = client.post("/api/v1/bank-statements/", HTTP_ACCEPT_LANGUAGE="ru")
    wrong_method = client.put("/api/v1/webhook/bank/", HTTP_ACCEPT_LANGUAGE="ru")

    assert webhook.status_code == statement.status_code == 400
    assert set(statement.json()) == {"page", "from"}
    assert upload.status_code in (401, 403) and wrong_method.status_code == 405
    for response in (webhook, statement, upload, wrong_method):
        assert not _cyrillic(response.content.decode()), response.content.decode()
        assert response["Content-Language"] == "en"


def test_csv_for_russian_excel_has_bom_semicolons_and_decimal_commas():
    sheet = Sheet("t", ["сумма", "счёт"], [[Decimal("1500.00"), "51"]])
    with translation.override("ru"):
        content = csv_bytes(sheet)
    with translation.override("en"):
        english = csv_bytes(sheet)

    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["сумма", "счёт"], ["1500,00", "51"]]
    assert english.decode("utf-8-sig").splitlines() == ["сумма,счёт", "1500.00,51"]
