"""An accountant's session in a real browser (Chromium via Playwright) against gunicorn.

Books payments over HTTP, then logs in to the admin as an accountant, finds a payment in
the journal, reverses it, and checks the organization's balance in the admin and the API.
The first session speaks Russian, as the accountants' browsers do (the admin's default),
the second English. Full-page screenshots of the main pages go to var/screenshots/; with
UPDATE_SCREENSHOTS=1 the README's ones are also written to docs/screenshots/:

    UPDATE_SCREENSHOTS=1 python3 dev.py test tests/test_admin_browser.py
"""

import importlib
import os
import re
import shutil
import uuid
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
import simplejson
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.utils import timezone

from accounting.models import EntryKind, JournalEntry
from organizations.services import organization_create
from tests.http import http_request
from tests.servers import ROOT, database_url_of, gunicorn_server
from tests.webhooks.helpers import WEBHOOK_URL, dumps
from webhooks.models import Payment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
# The screenshots the README shows, refreshed in docs/screenshots/ with UPDATE_SCREENSHOTS=1.
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
README_SCREENSHOTS = {"home.png", "journal.png", "entry.png", "statement.png",
                      "trial-balance.png", "bank-statement.png"}  # fmt: skip
# Russian writes 1 599,99 with a no-break space between the thousands.
NBSP = "\xa0"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} is missing (apt-get install -y chromium)",
    ),
]

INN = "7707083893"
UNKNOWN_INN = "500100732259"
PASSWORD = "ledger-Review-2024"
PAYMENTS = [
    ("0b7f4f0e-5a43-4a9e-9d0f-1f3f6f6c1a01", Decimal("1500.00"), INN, "PAY-101"),
    ("0b7f4f0e-5a43-4a9e-9d0f-1f3f6f6c1a02", Decimal("250.50"), INN, "PAY-102"),
    ("0b7f4f0e-5a43-4a9e-9d0f-1f3f6f6c1a03", Decimal("99.99"), INN, "PAY-103"),
    ("0b7f4f0e-5a43-4a9e-9d0f-1f3f6f6c1a04", Decimal("42.00"), UNKNOWN_INN, "PAY-104"),
]
REVERSED_OPERATION_ID = PAYMENTS[1][0]
REASON = "Paid twice by mistake"


@pytest.fixture(scope="module")
def admin_server(django_db_setup):
    """The app under gunicorn serving the admin's static files itself, as without DEBUG."""
    with gunicorn_server(
        database_url=database_url_of(connection.settings_dict),
        workers=1,
        threads=4,
        env={"WHITENOISE_USE_FINDERS": "true", "DJANGO_DEBUG": "false"},
    ) as url:
        yield url


def _accountant_group() -> Group:
    """The migration's "Accountant" group with the migration's permissions.

    Transactional tests truncate every table, so the group may have to be made again.
    """
    migration = importlib.import_module("reconciliation.migrations.0003_accountant_group")
    statements = importlib.import_module(
        "reconciliation.migrations.0004_accountant_bank_statements"
    )
    group, _ = Group.objects.get_or_create(name=migration.GROUP)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in [
                *migration.accountant_permissions(),
                *statements.PERMISSIONS,
            ]
        ]
    )
    return group


def _post_payments(base_url: str) -> None:
    for operation_id, amount, inn, document_number in PAYMENTS:
        body = dumps(
            {
                "operation_id": operation_id,
                "amount": amount,
                "payer_inn": inn,
                "document_number": document_number,
                "document_date": "2024-04-27T21:00:00Z",
            }
        )
        status, _, content = http_request(base_url + WEBHOOK_URL, body)
        assert status == 200, content
        result = "booked" if inn == INN else "unidentified"
        assert simplejson.loads(content)["result"] == result


def _launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" and name in README_SCREENSHOTS:
        shutil.copyfile(SCREENSHOTS / name, DOCS_SCREENSHOTS / name)


def test_accountant_reverses_a_payment_in_the_browser_in_russian(admin_server):
    organization = organization_create(inn=INN, name="Romashka LLC")
    _post_payments(admin_server)
    user = User.objects.create_user("accountant", password=PASSWORD, is_staff=True)
    user.groups.add(_accountant_group())
    entry_pk = Payment.objects.get(operation_id=REVERSED_OPERATION_ID).entry.pk
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expect = sync_api.expect

    # No ORM below until the browser is closed: Playwright runs an event loop in this thread.
    with sync_api.sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            context = browser.new_context(
                base_url=admin_server, viewport={"width": 1280, "height": 800}, locale="ru-RU"
            )
            page = context.new_page()
            page.set_default_timeout(15_000)

            page.goto("/admin/login/")
            expect(page.locator('link[href$="admin/css/base.css"]')).to_have_count(1)
            css = context.request.get(admin_server + "/static/admin/css/base.css")
            assert css.status == 200, "admin CSS is not served"
            page.fill("#id_username", "accountant")
            page.fill("#id_password", PASSWORD)
            page.click('input[type="submit"]')
            expect(page.locator("#user-tools")).to_contain_text("accountant")
            expect(page.locator("html")).to_have_attribute("lang", "ru")

            # The home page: what needs attention, in Russian.
            panel = page.locator("#attention-panel")
            expect(panel).to_contain_text("Требует внимания")
            expect(panel.locator("#attention-receipts-today")).to_contain_text(
                f"4 платежа на 1{NBSP}892,49"
            )
            expect(panel.locator("#attention-unallocated a")).to_have_text("1")

            # Find the 250.50 payment in the journal by its operation id.
            page.goto("/admin/accounting/journalentry/")
            expect(page.locator("#result_list tbody tr")).to_have_count(len(PAYMENTS))
            # The journal has many columns: give it the navigation sidebar's width.
            page.click("#toggle-nav-sidebar")
            expect(page.locator("#nav-sidebar")).to_be_hidden()
            page.fill("#searchbar", REVERSED_OPERATION_ID)
            page.locator("#changelist-search").get_by_role("button", name="Найти").click()
            rows = page.locator("#result_list tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first.locator("td.field-total")).to_have_text("250,50")
            rows.first.locator("th.field-id a").click()
            expect(page).to_have_url(re.compile(rf"/journalentry/{entry_pk}/change/(\?.*)?$"))
            expect(page.locator(".field-source_payment")).to_contain_text(REVERSED_OPERATION_ID)

            # Posted entries cannot be deleted by an accountant.
            expect(page.get_by_role("link", name="Удалить")).to_have_count(0)
            delete = context.request.get(
                f"{admin_server}/admin/accounting/journalentry/{entry_pk}/delete/"
            )
            assert delete.status == 403

            # Reverse it.
            page.get_by_role("link", name="Сторнировать…").click()
            expect(page).to_have_url(re.compile(rf"/journalentry/{entry_pk}/reverse/(\?.*)?$"))
            page.fill('textarea[name="reason"]', REASON)
            page.get_by_role("button", name="Сторнировать проводку").click()
            expect(page.locator(".messagelist .success")).to_contain_text(
                f"Reversal of entry #{entry_pk}"
            )
            reversal_pk = int(re.search(r"/journalentry/(\d+)/change/", page.url)[1])
            assert reversal_pk != entry_pk
            expect(page.locator(".field-memo .readonly")).to_have_text(
                f"Reversal of entry #{entry_pk}"
            )
            expect(page.locator(".field-reason .readonly")).to_have_text(REASON)
            expect(page.locator(".field-state .readonly")).to_contain_text(f"сторно #{entry_pk}")
            expect(page.locator(".field-created_by .readonly")).to_have_text("accountant")
            expect(page.get_by_role("link", name="Сторнировать…")).to_have_count(0)
            _shot(page, "entry.png")

            # The original now shows who reversed it, and cannot be reversed again.
            page.locator(".field-state .readonly a").click()
            expect(page).to_have_url(re.compile(rf"/journalentry/{entry_pk}/change/(\?.*)?$"))
            expect(page.locator(".field-state .readonly")).to_contain_text("сторнирована #")
            expect(page.get_by_role("link", name="Сторнировать…")).to_have_count(0)

            page.goto("/admin/accounting/journalentry/")
            expect(page.locator("#result_list tbody tr")).to_have_count(len(PAYMENTS) + 1)
            _shot(page, "journal.png")

            # The home page once the day's work is done, for the README.
            page.click("#toggle-nav-sidebar")
            page.goto("/admin/")
            expect(panel.locator("#attention-unallocated a")).to_have_text("1")
            _shot(page, "home.png")

            # The organization's balance: 1500.00 + 99.99, the 250.50 reversed.
            page.goto("/admin/organizations/organization/")
            row = page.locator("#result_list tbody tr", has_text=INN)
            expect(row).to_have_count(1)
            expect(row.locator("td.field-balance")).to_have_text(f"1{NBSP}599,99")

            page.goto(f"/admin/organizations/organization/{organization.pk}/change/")
            page.locator(".object-tools").get_by_role("link", name="Выписка").click()
            expect(page).to_have_url(re.compile(rf"/organization/{organization.pk}/statement/$"))
            statement = page.locator("#statement tbody")
            # Opening balance, three payments, the reversal, closing balance.
            expect(statement.locator("tr")).to_have_count(6)
            expect(statement.locator("tr").last).to_contain_text(f"1{NBSP}599,99")
            _shot(page, "statement.png")

            page.goto("/admin/accounting/account/trial-balance/")
            expect(page.locator("#trial-balance tbody tr").first).to_be_visible()
            expect(page.locator("#trial-balance tfoot th").last).to_have_text("0,00")
            _shot(page, "trial-balance.png")
            context.close()
        finally:
            browser.close()

    status, _, body = http_request(f"{admin_server}/api/v1/organizations/{INN}/balance/")
    assert status == 200
    assert body == b'{"inn":"7707083893","balance":1599.99}'
    reversal = JournalEntry.objects.get(pk=reversal_pk)
    assert (reversal.kind, reversal.reverses_id, reversal.reason) == (
        EntryKind.REVERSAL,
        entry_pk,
        REASON,
    )
    assert reversal.created_by.username == "accountant"
    for name in ("home.png", "journal.png", "entry.png", "statement.png", "trial-balance.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000


def _login(page, expect) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", "accountant")
    page.fill("#id_password", PASSWORD)
    page.click('input[type="submit"]')
    expect(page.locator("#user-tools")).to_contain_text("accountant")


def test_accountant_imports_a_bank_statement_and_books_what_webhooks_missed(admin_server, tmp_path):
    from tests.bankstatements.files import Doc, statement_bytes

    today = timezone.localdate()
    noon = timezone.make_aware(datetime.combine(today, time(12))).isoformat()
    organization_create(inn=INN, name="Romashka LLC")
    webhooks = [("PAY-201", Decimal("1500.00")), ("PAY-202", Decimal("250.50")),
                ("PAY-299", Decimal("75.00"))]  # fmt: skip
    for number, amount in webhooks:
        body = dumps({"operation_id": str(uuid.uuid4()), "amount": amount, "payer_inn": INN,
                      "document_number": number, "document_date": noon})  # fmt: skip
        assert http_request(admin_server + WEBHOOK_URL, body)[0] == 200
    docs = [
        Doc("PAY-201", today, Decimal("1500.00"), payer_inn=INN),
        Doc("PAY-202", today, Decimal("250.50"), payer_inn=INN),
        # The bank received these; no webhook told the service.
        Doc("PAY-203", today, Decimal("99.99"), payer_inn=INN),
        Doc("PAY-204", today, Decimal("42.00"), payer_inn=UNKNOWN_INN, payer_name="ИП Петров"),
        Doc("118", today, Decimal("300.00"), incoming=False),
    ]
    path = tmp_path / "kl_to_1c.txt"
    path.write_bytes(statement_bytes(docs, start=today))
    user = User.objects.create_user("accountant", password=PASSWORD, is_staff=True)
    user.groups.add(_accountant_group())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expect = sync_api.expect

    # No ORM below until the browser is closed: Playwright runs an event loop in this thread.
    with sync_api.sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            context = browser.new_context(
                base_url=admin_server, viewport={"width": 1280, "height": 800}, locale="en-US"
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            _login(page, expect)
            expect(page.locator("html")).to_have_attribute("lang", "en")

            page.goto("/admin/bankstatements/bankstatement/")
            page.get_by_role("link", name="Import statement…").click()
            page.set_input_files("#id_file", str(path))
            page.get_by_role("button", name="Preview").click()
            expect(page.locator("#preview-message")).to_contain_text(
                "2 matched, 2 statement only, 0 ambiguous, 1 outgoing"
            )
            expect(page.locator("#statement-lines tbody tr")).to_have_count(len(docs))
            _shot(page, "bank-statement-preview.png")
            page.get_by_role("button", name="Import this statement").click()

            expect(page.locator(".messagelist .success")).to_contain_text("Imported.")
            expect(page.locator("#statement-status")).to_have_text("Open items")
            page.get_by_role("button", name="Book all 2 statement-only lines").click()
            expect(page.locator(".messagelist .success")).to_contain_text(
                "Booked 2 statement-only line(s) as payments."
            )
            rows = page.locator("#statement-lines tbody tr")
            expect(rows.filter(has_text="PAY-203").locator(".status")).to_have_text(
                "Statement only, booked"
            )
            expect(rows.filter(has_text="PAY-201").locator(".status")).to_have_text("Matched")
            # The webhook of PAY-299 is on no statement line: listed for follow-up.
            expect(page.locator("#webhook-only tbody tr")).to_have_count(1)
            expect(page.locator("#webhook-only")).to_contain_text("PAY-299")
            _shot(page, "bank-statement.png")

            rows.filter(has_text="PAY-203").locator(".payment a").click()
            expect(page.locator(".field-source .readonly")).to_have_text("Bank statement")
            context.close()
        finally:
            browser.close()

    status, _, body = http_request(f"{admin_server}/api/v1/organizations/{INN}/balance/")
    assert body == b'{"inn":"7707083893","balance":1925.49}'
    booked = Payment.objects.get(document_number="PAY-203")
    assert (booked.source, booked.entry.created_by.username) == ("statement", "accountant")
    for name in ("bank-statement.png", "bank-statement-preview.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000
