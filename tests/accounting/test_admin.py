"""The accountants' workspace in the Django admin, through Django's test client."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounting.models import Account, EntryKind, JournalEntry, Side
from accounting.services import LineSpec, journal_entry_post, journal_entry_reverse
from common.admin_tools import LargeTablePaginator
from organizations.models import Organization
from organizations.services import organization_create
from tests.factories import WebhookPayloadFactory
from tests.webhooks.helpers import BRIEF_PAYLOAD, post_webhook
from webhooks.models import Payment

pytestmark = pytest.mark.django_db

JOURNAL = "/admin/accounting/journalentry/"


@pytest.fixture
def books(client):
    organization_create(inn="1234567890", name="Acme")
    post_webhook(client, BRIEF_PAYLOAD)
    post_webhook(client, WebhookPayloadFactory(amount=Decimal("250.50")))
    post_webhook(client, WebhookPayloadFactory(payer_inn="7707083893", amount=Decimal("77.00")))
    post_webhook(client, {**BRIEF_PAYLOAD, "amount": 1})  # a conflict
    return Payment.objects.get(operation_id=BRIEF_PAYLOAD["operation_id"])


def _entry_ids(response):
    return [entry.pk for entry in response.context["cl"].result_list]


# (page, rows it lists: the books fixture's three entries, payments and so on)
PAGES = {
    JOURNAL: 3,
    "/admin/organizations/organization/": 1,
    "/admin/webhooks/payment/": 3,
    "/admin/webhooks/delivery/": 4,
    "/admin/webhooks/delivery/?follow_up=conflicts": 1,
    "/admin/reconciliation/reconciliationreport/": 0,
}


@pytest.mark.parametrize(("url", "rows"), PAGES.items(), ids=list(PAGES))
def test_accountant_sees_every_list_with_its_rows(accountant, books, url, rows):
    response = accountant.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count == rows


def test_accountant_sees_the_chart_of_accounts_and_the_trial_balance(accountant, books):
    accounts = accountant.get("/admin/accounting/account/")
    trial_balance = accountant.get("/admin/accounting/account/trial-balance/")

    codes = {account.code for account in accounts.context["cl"].result_list}
    assert {"51", "62.1234567890"} <= codes
    assert accounts.context["cl"].result_count == Account.objects.count()
    assert trial_balance.status_code == 200
    assert trial_balance.context["total_debit"] == Decimal("145327.50")


def test_journal_lists_accounts_totals_and_document(accountant, books):
    response = accountant.get(JOURNAL)

    row = next(e for e in response.context["cl"].result_list if e.pk == books.entry_id)
    assert (row.total_debit, row.debit_codes, row.credit_codes) == (
        Decimal("145000.00"),
        "51",
        "62.1234567890",
    )
    assert "PAY-328" in response.text


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ({"q": BRIEF_PAYLOAD["operation_id"]}, "brief"),
        ({"q": "PAY-328"}, "brief"),
        ({"q": "145000"}, "brief"),
        ({"q": "7707083893"}, "unidentified"),
        ({"kind": "payment", "account": "76.UNID"}, "unidentified"),
        ({"state": "unallocated"}, "unidentified"),
    ],
)
def test_journal_search_and_filters(accountant, books, query, matches):
    unidentified = JournalEntry.objects.get(party="7707083893")
    expected = {"brief": books.entry_id, "unidentified": unidentified.pk}[matches]

    assert _entry_ids(accountant.get(JOURNAL, query)) == [expected]


# (list, rows an operation id finds there: the brief's payment entry; its payment; its two
# deliveries, the booking and the conflicting repeat)
BY_OPERATION_ID = {JOURNAL: 1, "/admin/webhooks/payment/": 1, "/admin/webhooks/delivery/": 2}


@pytest.mark.parametrize(("url", "rows"), BY_OPERATION_ID.items(), ids=list(BY_OPERATION_ID))
def test_a_whole_operation_id_is_searched_exactly_and_a_part_as_text(accountant, books, url, rows):
    """A whole operation id is an equality on its indexed column, in any letter case (no
    LIKE, which reads every row of a table of millions); a part of one is still found."""
    operation_id = BRIEF_PAYLOAD["operation_id"]
    with CaptureQueriesContext(connection) as queries:
        exact = accountant.get(url, {"q": f" {operation_id.upper()} "})
    sqls = [q["sql"] for q in queries]  # read before the next request clears the log
    part = accountant.get(url, {"q": operation_id[:8]})

    assert exact.context["cl"].result_count == rows
    assert part.context["cl"].result_count == rows
    assert [sql for sql in sqls if " LIKE " in sql.upper()] == []
    compact = operation_id.replace("-", "")  # how a uuid column's value is written
    assert any(f"= '{operation_id}'" in sql or f"= '{compact}'" in sql for sql in sqls)


def test_an_operation_id_finds_its_corrections_manual_entries_and_rejected_deliveries(
    accountant, books
):
    """Bookings index no operation_id but the payment's: the journal follows the payment
    to its entry and on to the entries correcting it, and finds manual entries that name
    the operation; the deliveries list finds those booked through the payment and the
    rejected ones through their own partial index."""
    operation_id = BRIEF_PAYLOAD["operation_id"]
    reversal = journal_entry_reverse(entry=books.entry, reason="returned to the payer")
    manual = journal_entry_post(
        kind=EntryKind.MANUAL,
        memo="bank fee for the operation",
        reference=operation_id,
        lines=[
            LineSpec(account=Account.objects.get(code="51"), side=Side.CREDIT, amount=Decimal("1")),
            LineSpec(
                account=Account.objects.get(code="76.UNID"), side=Side.DEBIT, amount=Decimal("1")
            ),
        ],
    )
    assert post_webhook(accountant, {**BRIEF_PAYLOAD, "amount": "abc"}).status_code == 400

    journal = accountant.get(JOURNAL, {"q": operation_id})
    deliveries = accountant.get("/admin/webhooks/delivery/", {"q": operation_id})

    assert sorted(_entry_ids(journal)) == sorted([books.entry_id, reversal.pk, manual.pk])
    results = sorted(d.result for d in deliveries.context["cl"].result_list)
    assert results == ["booked", "conflict", "rejected"]


def test_deliveries_filter_by_status_without_reading_every_delivery(accountant, books):
    """The status filter offers 200 and the statuses of rejected deliveries; finding those
    reads the rejected ones only, not every delivery ever received."""
    assert post_webhook(accountant, "{not json").status_code == 400
    deliveries = "/admin/webhooks/delivery/"
    with CaptureQueriesContext(connection) as queries:
        page = accountant.get(deliveries)
    distinct = [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()]

    [status_filter] = [
        f
        for f in page.context["cl"].filter_specs
        if getattr(f, "parameter_name", "") == "http_status"
    ]
    assert [choice for choice, _ in status_filter.lookup_choices] == ["200", "400"]
    assert distinct and all("'rejected'" in sql for sql in distinct), distinct
    assert accountant.get(deliveries, {"http_status": "400"}).context["cl"].result_count == 1
    assert accountant.get(deliveries, {"http_status": "200"}).context["cl"].result_count == 4
    for nonsense in ("abc", "99999999999999999999"):
        assert accountant.get(deliveries, {"http_status": nonsense}).context["cl"].result_count == 0


def test_journal_date_range_filter(accountant, books):
    assert len(_entry_ids(accountant.get(JOURNAL, {"posted_from": "2000-01-01"}))) == 3
    assert _entry_ids(accountant.get(JOURNAL, {"posted_to": "2000-01-01"})) == []


@pytest.mark.parametrize(
    "url",
    [JOURNAL, f"{JOURNAL}?account=62.1234567890", "/admin/webhooks/payment/",
     "/admin/webhooks/delivery/?received_from=2000-01-01"],
)  # fmt: skip
def test_large_lists_count_at_most_a_bounded_number_of_rows(accountant, books, url):
    """A page of the journal, the payments or the deliveries never counts the whole table:
    every COUNT is over a LIMITed subquery, and the lines are read per shown entry."""
    with CaptureQueriesContext(connection) as queries:
        response = accountant.get(url)

    assert response.status_code == 200 and response.context["cl"].result_count >= 1
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the list counts its rows"
    for sql in counts:
        assert f"LIMIT {LargeTablePaginator.EXACT_UP_TO + 1}" in sql, sql
    # The page's own query aggregates nothing at its top level (no GROUP BY after its last
    # subquery): the per-entry totals and account codes are correlated subqueries.
    # (A page that holds the whole list is read without a LIMIT.)
    pages = [q["sql"] for q in queries if re.search(r"ORDER BY [^()]*(LIMIT \d+)?$", q["sql"])]
    assert pages
    for page in pages:
        assert "GROUP BY" not in page.rsplit(")", 1)[-1], page


def test_past_the_exact_count_the_list_shows_the_planner_estimate(accountant, books, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "EXACT_UP_TO", 1)

    response = accountant.get(JOURNAL)

    # Three entries: more than one, so the count is the planner's estimate, never below 2.
    assert response.context["cl"].result_count >= 2
    assert _entry_ids(response) == sorted(
        JournalEntry.objects.values_list("pk", flat=True), reverse=True
    )


def test_entry_page_shows_lines_payment_and_raw_deliveries(accountant, books):
    page = accountant.get(f"{JOURNAL}{books.entry_id}/change/")

    assert page.status_code == 200
    assert BRIEF_PAYLOAD["operation_id"] in page.text
    assert "Повтор с другим содержимым" in page.text  # the conflicting delivery
    assert "Сторнировать…" in page.text
    assert "Удалить" not in page.text


def test_accountant_reverses_an_entry_with_a_reason(accountant, books, client):
    url = f"{JOURNAL}{books.entry_id}/reverse/"
    assert accountant.get(url).status_code == 200

    response = accountant.post(url, {"reason": "Paid twice"})

    reversal = JournalEntry.objects.get(kind=EntryKind.REVERSAL)
    assert response["Location"].endswith(f"{JOURNAL}{reversal.pk}/change/")
    assert (reversal.reverses_id, reversal.reason, reversal.created_by.username) == (
        books.entry_id,
        "Paid twice",
        "accountant",
    )
    assert client.get("/api/v1/organizations/1234567890/balance/").json()["balance"] == 250.5
    again = accountant.post(url, {"reason": "again"}, follow=True)
    assert "already reversed" in again.text
    assert JournalEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1


def test_reversal_needs_a_reason(accountant, books):
    response = accountant.post(f"{JOURNAL}{books.entry_id}/reverse/", {"reason": ""})

    assert response.status_code == 200  # the form again, with its error
    # The admin speaks Russian: Django's own message for a required field.
    assert response.context["form"].errors == {"reason": ["Обязательное поле."]}
    assert not JournalEntry.objects.filter(kind=EntryKind.REVERSAL).exists()


def test_accountant_reclassifies_an_unidentified_receipt(accountant, books, client):
    receipt = JournalEntry.objects.get(party="7707083893")
    target = Organization.objects.get(inn="1234567890").account
    assert "Разнести…" in accountant.get(f"{JOURNAL}{receipt.pk}/change/").text

    accountant.post(
        f"{JOURNAL}{receipt.pk}/reclassify/", {"account": target.pk, "reason": "Paid for Acme"}
    )

    moved = JournalEntry.objects.get(kind=EntryKind.RECLASSIFICATION)
    assert (moved.reclassifies_id, moved.created_by.username) == (receipt.pk, "accountant")
    assert client.get("/api/v1/organizations/1234567890/balance/").json()["balance"] == 145327.5


def test_staff_without_the_permission_cannot_reverse(client, books):
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)

    assert client.post(f"{JOURNAL}{books.entry_id}/reverse/", {"reason": "x"}).status_code == 403
    assert not JournalEntry.objects.filter(kind=EntryKind.REVERSAL).exists()


@pytest.mark.parametrize(
    "url",
    [
        f"{JOURNAL}{{entry}}/delete/",
        "/admin/webhooks/payment/{payment}/delete/",
        "/admin/accounting/account/{account}/delete/",
        "/admin/organizations/organization/{organization}/delete/",
    ],
)
def test_accountant_can_delete_nothing(accountant, books, url):
    organization = Organization.objects.get(inn="1234567890")
    url = url.format(
        entry=books.entry_id,
        payment=books.pk,
        account=organization.account_id,
        organization=organization.pk,
    )

    assert accountant.post(url, {"post": "yes"}).status_code == 403
    assert JournalEntry.objects.filter(pk=books.entry_id).exists()
    assert Payment.objects.filter(pk=books.pk).exists()
    assert Organization.objects.filter(pk=organization.pk, account_id=organization.account_id)


def test_posted_entry_cannot_be_changed(accountant, books):
    memo = JournalEntry.objects.get(pk=books.entry_id).memo
    response = accountant.post(f"{JOURNAL}{books.entry_id}/change/", {"memo": "edited"})

    assert response.status_code == 403
    assert memo != "edited"
    assert JournalEntry.objects.get(pk=books.entry_id).memo == memo


def test_journal_exports_to_csv_and_xlsx(accountant, books):
    ids = [str(pk) for pk in JournalEntry.objects.values_list("pk", flat=True)]
    csv_response = accountant.post(JOURNAL, {"action": "export_csv", "_selected_action": ids})
    xlsx_response = accountant.post(JOURNAL, {"action": "export_xlsx", "_selected_action": ids})

    # For Excel in Russian: a byte order mark, ";" between fields, "," in amounts.
    assert csv_response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["проводка", "проведена", "дата документа"]
    assert len(rows) == 4
    brief = next(r for r in rows if r[0] == str(books.entry_id))
    assert brief[7] == "145000,00" and brief[8] == "51" and brief[9] == "62.1234567890"
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    amounts = [row[7] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(amounts) == [77, 250.5, 145000]


def test_trial_balance_page_totals_to_zero_and_exports(accountant, books):
    page = accountant.get("/admin/accounting/account/trial-balance/")

    assert page.context["total_balance"] == 0
    assert page.context["total_debit"] == Decimal("145327.50")
    export = accountant.get("/admin/accounting/account/trial-balance/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert ["51", "Bank clearing", "asset", "RUB", "145327,50", "0", "145327,50"] in rows
    past = accountant.get("/admin/accounting/account/trial-balance/", {"date": "2000-01-01"})
    assert past.context["total_debit"] == 0


def test_organization_statement_page_and_export(accountant, books):
    organization = Organization.objects.get(inn="1234567890")
    url = f"/admin/organizations/organization/{organization.pk}/statement/"

    page = accountant.get(url)

    assert page.context["statement"].closing == Decimal("145250.50")
    assert "Контрольные цифры ИНН неверны" in page.text  # 1234567890 fails the INN checksum
    export = accountant.get(url, {"format": "xlsx", "from": "2000-01-01"})
    sheet = load_workbook(io.BytesIO(export.content)).active
    balances = [row[7] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert balances == [0, 145000, 145250.5, 145250.5]


def test_organization_list_shows_exact_balance_and_last_payment(accountant, books):
    response = accountant.get("/admin/organizations/organization/")

    [acme] = response.context["cl"].result_list
    assert acme.balance == Decimal("145250.50")
    assert acme.last_payment_at is not None


def test_accountant_group_has_exactly_the_permissions_the_work_needs():
    codenames = set(
        Group.objects.get(name="Accountant").permissions.values_list("codename", flat=True)
    )

    assert {"reverse_journalentry", "reclassify_journalentry", "run_reconciliation"} <= codenames
    assert not {c for c in codenames if c.startswith(("delete_", "change_"))}
    assert {c for c in codenames if c.startswith("add_")} == {"add_organization"}
