"""The command and the API import through the same service."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from bankstatements.models import BankStatement, StatementSource
from tests.bankstatements.files import Doc, line_of, statement_bytes
from tests.bankstatements.helpers import webhook_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
URL = "/api/v1/bank-statements/"
DOCS = [Doc("328", TODAY, Decimal("145000.00")), Doc("17", TODAY, Decimal("0.30"))]
BAD = statement_bytes([Doc("1", TODAY, "145000")], start=TODAY, total_received=Decimal(1))


@pytest.fixture
def statement_file(tmp_path):
    path = tmp_path / "kl_to_1c.txt"
    path.write_bytes(statement_bytes(DOCS, start=TODAY))
    return path


def _user(*, staff=True, allowed=True) -> User:
    user = User.objects.create_user(f"user{User.objects.count()}", is_staff=staff)
    if allowed:
        user.user_permissions.add(Permission.objects.get(codename="import_bankstatement"))
    return user


def test_command_imports_and_reports_the_matching(statement_file, client, capsys):
    webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))

    call_command("import_bank_statement", str(statement_file))

    out = capsys.readouterr().out
    assert "Imported." in out and "1 matched, 1 statement only" in out
    statement = BankStatement.objects.get()
    assert (statement.source, statement.file_name) == (StatementSource.COMMAND, "kl_to_1c.txt")


def test_command_dry_run_lists_the_lines_and_stores_nothing(statement_file, capsys):
    call_command("import_bank_statement", str(statement_file), "--dry-run")

    out = capsys.readouterr().out
    assert "Dry run, nothing stored" in out
    assert "Statement only" in out and "328 of" in out
    assert BankStatement.objects.count() == 0


def test_command_says_when_the_file_was_imported_before(statement_file, capsys):
    call_command("import_bank_statement", str(statement_file))

    call_command("import_bank_statement", str(statement_file))

    assert "Already imported" in capsys.readouterr().out
    assert BankStatement.objects.count() == 1


def test_command_refuses_a_malformed_file_with_its_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(BAD)

    with pytest.raises(CommandError, match=f"bad.txt: refused, line {line_of(BAD, 'Сумма=')}: "):
        call_command("import_bank_statement", str(path))
    assert BankStatement.objects.count() == 0


def _upload(client, raw: bytes, **fields):
    return client.post(URL, {"file": SimpleUploadedFile("statement.txt", raw), **fields})


def test_api_imports_a_statement_for_staff_with_the_permission(client):
    user = _user()
    client.force_login(user)

    response = _upload(client, statement_bytes(DOCS, start=TODAY))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["result"] == "imported"
    assert body["lines"] == {"matched": 0, "statement_only": 2, "ambiguous": 0, "outgoing": 0}
    assert body["statement"]["total_received"] == 145000.30
    assert b'"total_received":145000.30' in response.content  # an exact JSON number
    statement = BankStatement.objects.get()
    assert (statement.source, statement.imported_by) == (StatementSource.API, user)


def test_api_answers_200_and_changes_nothing_for_the_same_file(client):
    client.force_login(_user())
    raw = statement_bytes(DOCS, start=TODAY)
    _upload(client, raw)

    again = _upload(client, raw)

    assert again.status_code == 200
    assert again.json()["result"] == "already_imported"
    assert BankStatement.objects.count() == 1


def test_api_dry_run_stores_nothing(client):
    client.force_login(_user())

    response = _upload(client, statement_bytes(DOCS, start=TODAY), dry_run="true")

    assert (response.status_code, response.json()["result"]) == (200, "dry_run")
    assert response.json()["statement"] is None
    assert BankStatement.objects.count() == 0


def test_api_refuses_a_malformed_file_with_the_line_and_reason(client):
    client.force_login(_user())

    response = _upload(client, BAD)

    assert response.status_code == 400
    [message] = response.json()["file"]
    assert message.startswith(f"line {line_of(BAD, 'Сумма=')}: Сумма='145000' is not an amount")
    assert BankStatement.objects.count() == 0


def test_api_without_a_file_names_the_field(client):
    client.force_login(_user())

    response = client.post(URL, {})

    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.parametrize(
    "who", [None, {"staff": True, "allowed": False}, {"staff": False, "allowed": True}],
    ids=["anonymous", "staff without the permission", "not staff"],
)  # fmt: skip
def test_api_refuses_whoever_may_not_import(client, who):
    if who is not None:
        client.force_login(_user(**who))

    response = _upload(client, statement_bytes(DOCS, start=TODAY))

    assert response.status_code == (401 if who is None else 403)
    assert BankStatement.objects.count() == 0


def test_api_imports_with_a_key_of_the_statement_import_scope(client):
    from organizations.services import api_key_issue

    _, importer = api_key_issue(name="bank robot", organizations=[], scopes=["statement-import"])
    _, reader = api_key_issue(name="erp", organizations=[], scopes=["balances"])
    raw = statement_bytes(DOCS, start=TODAY)

    refused = client.post(
        URL,
        {"file": SimpleUploadedFile("s.txt", raw)},
        HTTP_AUTHORIZATION=f"Bearer {reader}",
    )
    accepted = client.post(
        URL,
        {"file": SimpleUploadedFile("s.txt", raw)},
        HTTP_AUTHORIZATION=f"Bearer {importer}",
    )

    assert refused.status_code == 403
    assert accepted.status_code == 201, accepted.content
    assert BankStatement.objects.get().source == StatementSource.API
