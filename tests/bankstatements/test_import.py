"""Importing statements: the file kept with its SHA-256, re-imports, versions, refusals."""

import hashlib
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from bankstatements.exceptions import StatementRefused
from bankstatements.models import BankStatement, LineDirection, LineStatus, StatementLine
from bankstatements.selectors import statement_summary_get
from bankstatements.services import statement_lines_book
from tests.bankstatements.files import OTHER_ACCOUNT, Doc, statement_bytes
from tests.bankstatements.helpers import import_statement, webhook_for
from tests.reconciliation.test_reports import s3_endpoint, s3_storage  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DOCS = [
    Doc("328", TODAY, Decimal("145000.00")),
    Doc("17", TODAY, Decimal("0.30"), payer_inn="500100732259"),
    Doc("902", TODAY, Decimal("5000.00"), incoming=False),
]


def _files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("encoding", ["cp1251", "cp866", "utf-8-sig"])
def test_import_keeps_the_original_file_with_its_sha256(encoding, statement_storage):
    raw = statement_bytes(DOCS, encoding=encoding, start=TODAY)

    result = import_statement(raw, name="kl_to_1c.txt")

    statement = result.statement
    assert result.created and not result.dry_run
    assert statement.sha256 == hashlib.sha256(raw).hexdigest()
    assert (statement.size, statement.file_name) == (len(raw), "kl_to_1c.txt")
    with default_storage.open(statement.file.name, "rb") as stored:
        assert stored.read() == raw
    assert len(_files(statement_storage)) == 1
    assert statement.lines.count() == 3


def test_import_records_period_balances_and_totals():
    statement = import_statement(statement_bytes(DOCS, start=TODAY)).statement

    assert (statement.period_start, statement.period_end) == (TODAY, TODAY)
    assert statement.opening_balance == Decimal("1000.00")
    assert statement.total_received == Decimal("145000.30")
    assert statement.total_paid == Decimal("5000.00")
    assert statement.closing_balance == Decimal("141000.30")
    assert (statement.format_version, statement.encoding, statement.version) == (
        "1.03",
        "cp1251",
        1,
    )


def test_documents_to_the_service_account_with_a_receipt_date_are_incoming():
    docs = [
        *DOCS,
        # To another account of ours, or not yet received: kept, never booked.
        Doc("44", TODAY, Decimal("7.00"), extra={"ПолучательСчет": OTHER_ACCOUNT}),
        Doc("45", TODAY, Decimal("8.00"), extra={"ДатаПоступило": ""}),
    ]

    statement = import_statement(statement_bytes(docs, start=TODAY)).statement

    directions = dict(statement.lines.values_list("number", "direction"))
    assert directions == {
        "328": LineDirection.INCOMING, "17": LineDirection.INCOMING,
        "902": LineDirection.OUTGOING, "44": LineDirection.OUTGOING, "45": LineDirection.OUTGOING,
    }  # fmt: skip
    assert set(statement.lines.filter(direction="outgoing").values_list("status", flat=True)) == {
        LineStatus.OUTGOING
    }


def test_importing_the_same_file_again_changes_nothing_and_says_so(statement_storage):
    raw = statement_bytes(DOCS, start=TODAY)
    first = import_statement(raw)

    again = import_statement(raw)

    assert not again.created
    assert again.statement.pk == first.statement.pk
    assert "Already imported" in again.message and "nothing changed" in again.message
    assert BankStatement.objects.count() == 1
    assert StatementLine.objects.count() == 3
    assert len(_files(statement_storage)) == 1


@pytest.mark.parametrize(
    "raw",
    [
        statement_bytes(DOCS, start=TODAY)[:-40],
        statement_bytes([Doc("1", TODAY, "145000-00")], start=TODAY, total_received=Decimal(1)),
        statement_bytes(DOCS, start=TODAY, account=OTHER_ACCOUNT),
        statement_bytes(DOCS, start=TODAY, encoding_name="UTF-16"),
    ],
    ids=["truncated", "bad amount", "another account", "unknown encoding"],
)
def test_malformed_file_is_refused_whole_and_nothing_is_stored(raw, statement_storage):
    with pytest.raises(StatementRefused) as refused:
        import_statement(raw)

    assert refused.value.line > 0
    assert str(refused.value).startswith(f"line {refused.value.line}: ")
    assert BankStatement.objects.count() == 0
    assert StatementLine.objects.count() == 0
    assert _files(statement_storage) == []


def test_dry_run_shows_the_outcome_and_stores_nothing(client, statement_storage):
    webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))

    result = import_statement(statement_bytes(DOCS, start=TODAY), dry_run=True)

    assert result.dry_run and not result.created and result.statement is None
    assert result.counts[LineStatus.MATCHED] == 1
    assert result.counts[LineStatus.STATEMENT_ONLY] == 1
    assert [line.status for line in result.lines] == ["matched", "statement_only", "outgoing"]
    assert "Dry run, nothing stored" in result.message
    assert BankStatement.objects.count() == 0
    assert _files(statement_storage) == []


def test_corrected_statement_for_the_same_day_is_a_new_version_and_matches_stay(client):
    _, answer = webhook_for(client, number="328", day=TODAY, amount=Decimal("145000.00"))
    first = import_statement(statement_bytes(DOCS, start=TODAY)).statement
    statement_lines_book(lines=first.lines.filter(number="17"))
    corrected_docs = [*DOCS, Doc("18", TODAY, Decimal("12.00"))]

    corrected = import_statement(statement_bytes(corrected_docs, start=TODAY)).statement

    assert corrected.version == 2
    assert list(corrected.supersedes.all()) == [first]
    lines = {line.number: line for line in corrected.lines.all()}
    assert (lines["328"].status, lines["328"].payment_id) == ("matched", answer["payment_id"])
    booked = first.lines.get(number="17")
    assert lines["17"].booked and lines["17"].payment_id == booked.payment_id
    assert lines["18"].status == LineStatus.STATEMENT_ONLY and not lines["18"].booked
    assert statement_summary_get(statement=first).superseded
    assert not statement_summary_get(statement=corrected).superseded


def test_statement_overlapping_part_of_an_earlier_one_counts_only_for_its_days():
    yesterday = TODAY - timezone.timedelta(days=1)
    older = import_statement(
        statement_bytes([Doc("1", yesterday, Decimal("1.00"))], start=yesterday, end=TODAY)
    ).statement

    newer = import_statement(statement_bytes([Doc("2", TODAY, Decimal("2.00"))], start=TODAY))

    assert newer.statement.version == 2
    assert statement_summary_get(statement=older).current_days == [yesterday]
    assert statement_summary_get(statement=newer.statement).current_days == [TODAY]


def test_statement_file_is_kept_in_s3(s3_storage):  # noqa: F811  (the fixture)
    from tests.reconciliation.test_reports import BUCKET

    raw = statement_bytes(DOCS, start=TODAY)

    statement = import_statement(raw).statement

    keys = {o["Key"] for o in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {f"reports/{statement.file.name}"}
    assert statement.file.name.endswith(f"{statement.sha256}.txt")
    assert BankStatement.objects.get().file.open("rb").read() == raw
