"""The accountants' Statements pages."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bankstatements.models import BankStatement, LineStatus, StatementLine
from tests.bankstatements.files import Doc, line_of, statement_bytes
from tests.bankstatements.helpers import import_statement, webhook_for
from webhooks.models import Payment, PaymentSource

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
STATEMENTS = "/admin/bankstatements/bankstatement/"
LINES = "/admin/bankstatements/statementline/"
DOCS = [Doc("328", TODAY, Decimal("145000.00")), Doc("17", TODAY, Decimal("0.30"))]


@pytest.fixture
def accountant(client):
    user = User.objects.create_user("accountant", password="s3cret-pass", is_staff=True)
    user.groups.add(Group.objects.get(name="Accountant"))
    client.force_login(user)
    return user


def _upload(client, raw: bytes):
    return client.post(STATEMENTS + "import/", {"file": SimpleUploadedFile("kl_to_1c.txt", raw)})


def test_upload_shows_a_preview_and_stores_nothing_until_confirmed(client, accountant):
    webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))

    preview = _upload(client, statement_bytes(DOCS, start=TODAY))

    assert preview.status_code == 200
    assert "Предпросмотр, ничего не сохранено" in preview.text
    assert "сопоставлено: 1, только в выписке: 1" in preview.text
    assert 'id="confirm-import"' in preview.text
    assert BankStatement.objects.count() == 0

    sha256 = preview.context["sha256"]
    confirmed = client.post(STATEMENTS + "import/", {"confirm": "1", "sha256": sha256})

    statement = BankStatement.objects.get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"{STATEMENTS}{statement.pk}/change/"
    assert (statement.sha256, statement.imported_by, statement.source) == (
        sha256, accountant, "admin"
    )  # fmt: skip


def test_malformed_upload_is_refused_with_its_line(client, accountant):
    raw = statement_bytes([Doc("1", TODAY, "1,00")], start=TODAY, total_received=Decimal(1))

    response = _upload(client, raw)

    assert f"Отклонено, ничего не сохранено: line {line_of(raw, 'Сумма=')}: " in response.text
    assert 'id="confirm-import"' not in response.text
    assert BankStatement.objects.count() == 0


def test_statement_page_links_each_line_to_its_payment(client, accountant):
    _, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))
    statement = import_statement(statement_bytes(DOCS, start=TODAY)).statement

    page = client.get(f"{STATEMENTS}{statement.pk}/change/")

    assert page.status_code == 200
    assert f'href="/admin/webhooks/payment/{answer["payment_id"]}/change/"' in page.text
    assert "Только в выписке" in page.text
    assert "Провести 1 строку, которая есть только в выписке" in page.text
    listing = client.get(STATEMENTS)
    assert "Есть расхождения" in listing.text and "statement.txt" in listing.text


def test_book_all_books_the_statement_only_lines_as_the_user(client, accountant):
    statement = import_statement(statement_bytes(DOCS, start=TODAY)).statement

    response = client.post(f"{STATEMENTS}{statement.pk}/book/", follow=True)

    assert "Проведено как платежи строк, которые есть только в выписке: 2." in response.text
    assert set(Payment.objects.values_list("source", flat=True)) == {PaymentSource.STATEMENT}
    assert {line.booked_by for line in statement.lines.all()} == {accountant}
    assert "Сверено" in client.get(f"{STATEMENTS}{statement.pk}/change/").text


def test_action_books_only_the_selected_lines(client, accountant):
    statement = import_statement(statement_bytes(DOCS, start=TODAY)).statement
    chosen = statement.lines.get(number="17")

    client.post(LINES, {"action": "book_selected", "_selected_action": [chosen.pk]})

    assert StatementLine.objects.get(pk=chosen.pk).booked
    assert not statement.lines.get(number="328").booked
    assert Payment.objects.count() == 1


def test_match_again_matches_a_line_whose_webhook_came_later(client, accountant):
    statement = import_statement(statement_bytes(DOCS, start=TODAY)).statement
    _, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))

    client.post(f"{STATEMENTS}{statement.pk}/match/")

    line = statement.lines.get(number="328")
    assert (line.status, line.payment_id) == (LineStatus.MATCHED, answer["payment_id"])


def test_webhook_only_payments_are_listed_for_follow_up(client, accountant):
    _, lost = webhook_for(client, number="999", day=TODAY, amount=Decimal("9.99"))
    import_statement(statement_bytes(DOCS, start=TODAY))

    page = client.get(STATEMENTS + "webhook-only/")

    assert f'href="/admin/webhooks/payment/{lost["payment_id"]}/change/"' in page.text
    assert lost["operation_id"] in page.text


def test_the_original_file_can_be_downloaded(client, accountant):
    raw = statement_bytes(DOCS, start=TODAY)
    statement = import_statement(raw, name="kl_to_1c.txt").statement

    response = client.get(f"{STATEMENTS}{statement.pk}/download/")

    assert b"".join(response.streaming_content) == raw
    assert 'filename="kl_to_1c.txt"' in response["Content-Disposition"]


def test_statements_and_lines_cannot_be_changed_or_deleted(client, accountant):
    statement = import_statement(statement_bytes(DOCS, start=TODAY)).statement

    assert client.get(f"{STATEMENTS}add/").status_code == 403
    assert client.post(f"{STATEMENTS}{statement.pk}/delete/").status_code == 403
    line = statement.lines.first()
    assert client.post(f"{LINES}{line.pk}/delete/").status_code == 403
