"""Reading 1CClientBankExchange files: encodings, line ends, versions, and malformed files."""

from datetime import date
from decimal import Decimal

import pytest

from bankstatements.parser import StatementFormatError, statement_parse
from tests.bankstatements.files import (
    OTHER_ACCOUNT,
    OWN_ACCOUNT,
    Doc,
    line_of,
    statement_bytes,
)

DAY = date(2024, 4, 27)
DOCS = [
    Doc("328", DAY, Decimal("145000.00"), payer_name='ООО "Ромашка"'),
    Doc("17", DAY, Decimal("0.30"), payer_inn="500100732259", payer_name="ИП Иванов Иван"),
    Doc("902", DAY, Decimal("5000.00"), incoming=False),
]


def parse(raw: bytes):
    return statement_parse(raw, own_account=OWN_ACCOUNT)


def refusal(raw: bytes) -> StatementFormatError:
    with pytest.raises(StatementFormatError) as caught:
        parse(raw)
    return caught.value


@pytest.mark.parametrize(
    ("encoding", "codec"), [("cp1251", "cp1251"), ("cp866", "cp866"), ("utf-8-sig", "utf-8")]
)
def test_each_encoding_reads_the_same_documents(encoding, codec):
    parsed = parse(statement_bytes(DOCS, encoding=encoding, start=DAY))

    assert parsed.encoding == codec
    assert [(d.number, d.date, d.amount, d.payer_inn, d.payer_name) for d in parsed.documents] == [
        ("328", DAY, Decimal("145000.00"), "7707083893", 'ООО "Ромашка"'),
        ("17", DAY, Decimal("0.30"), "500100732259", "ИП Иванов Иван"),
        ("902", DAY, Decimal("5000.00"), "7707083893", 'ООО "Ромашка"'),
    ]
    assert parsed.documents[0].purpose.startswith("Оплата по счету № 15")
    assert all(isinstance(d.amount, Decimal) for d in parsed.documents)


def test_bom_wins_over_the_declared_encoding():
    raw = statement_bytes(DOCS, encoding="utf-8-sig", start=DAY, encoding_name="Windows")

    assert parse(raw).documents[0].payer_name == 'ООО "Ромашка"'


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_crlf_and_lf_line_ends_read_alike(newline):
    parsed = parse(statement_bytes(DOCS, newline=newline, start=DAY))

    assert [d.number for d in parsed.documents] == ["328", "17", "902"]
    assert parsed.documents[0].payer_account == "40702810500000000777"
    assert not any("\r" in value for value in parsed.documents[0].fields.values())


@pytest.mark.parametrize("version", ["1.01", "1.02", "1.03"])
def test_format_versions_1_01_to_1_03_are_read(version):
    assert parse(statement_bytes(DOCS, version=version, start=DAY)).format_version == version


def test_header_and_account_section_give_period_balances_and_totals():
    parsed = parse(statement_bytes(DOCS, start=DAY, end=date(2024, 4, 28)))

    assert (parsed.start, parsed.end, parsed.account) == (DAY, date(2024, 4, 28), OWN_ACCOUNT)
    [section] = parsed.sections
    assert section.opening_balance == Decimal("1000.00")
    assert section.total_received == Decimal("145000.30")
    assert section.total_paid == Decimal("5000.00")
    assert section.closing_balance == Decimal("141000.30")


def test_receipt_and_write_off_dates_are_read():
    incoming, _, outgoing = parse(statement_bytes(DOCS, start=DAY)).documents

    assert (incoming.received_on, incoming.written_off_on) == (DAY, None)
    assert (outgoing.received_on, outgoing.written_off_on) == (None, DAY)
    assert incoming.recipient_account == OWN_ACCOUNT


def test_two_documents_sharing_number_and_date_are_both_kept():
    docs = [
        Doc("55", DAY, Decimal("100.00"), payer_inn="7707083893"),
        Doc("55", DAY, Decimal("250.00"), payer_inn="7728168971"),
    ]

    parsed = parse(statement_bytes(docs, start=DAY))

    assert [(d.number, d.date, d.amount) for d in parsed.documents] == [
        ("55", DAY, Decimal("100.00")),
        ("55", DAY, Decimal("250.00")),
    ]


def test_a_payer_without_inn_is_read_as_none():
    parsed = parse(statement_bytes([Doc("1", DAY, Decimal("10.00"), payer_inn="0")], start=DAY))

    assert parsed.documents[0].payer_inn == ""


def test_truncated_file_is_refused_naming_its_last_line():
    raw = statement_bytes(DOCS, start=DAY, newline="\n")
    cut = raw[: raw.index("Очередность".encode("cp1251"))]

    error = refusal(cut)

    assert error.line == cut.count(b"\n")
    assert "truncated" in error.reason
    assert f"opened at line {line_of(raw, 'СекцияДокумент')}" in error.reason


def test_file_without_end_marker_is_refused_as_truncated():
    raw = statement_bytes(DOCS, start=DAY, newline="\n").replace(
        "КонецФайла\n".encode("cp1251"), b""
    )

    error = refusal(raw)

    assert "without КонецФайла" in error.reason and "truncated" in error.reason


def test_missing_document_end_is_refused_at_the_next_section():
    raw = statement_bytes(DOCS, start=DAY, newline="\n")
    broken = raw.replace("КонецДокумента\n".encode("cp1251"), b"", 1)

    error = refusal(broken)

    second_section = [
        n for n, line in enumerate(broken.decode("cp1251").split("\n"), 1)
        if line.startswith("СекцияДокумент")
    ][1]  # fmt: skip
    assert error.line == second_section
    assert "before КонецДокумента" in error.reason


@pytest.mark.parametrize(
    "amount", ["145000", "145000-00", "145000,00", "1.5", "-10.00", "12a.00", ""]
)
def test_amount_not_in_roubles_dot_kopecks_is_refused_with_its_line(amount):
    raw = statement_bytes([Doc("1", DAY, amount)], start=DAY, total_received=Decimal("1.00"))

    error = refusal(raw)

    assert error.line == line_of(raw, "Сумма=")
    assert "Сумма" in error.reason


def test_zero_amount_is_refused():
    raw = statement_bytes([Doc("1", DAY, "0.00")], start=DAY)

    assert refusal(raw).line == line_of(raw, "Сумма=")


@pytest.mark.parametrize("value", ["31.02.2024", "2024-04-27", "27.4.2024", "27.04.24"])
def test_bad_date_is_refused_with_its_line(value):
    raw = statement_bytes([Doc("1", DAY, Decimal("1.00"))], start=DAY)
    raw = raw.replace(f"Дата={DAY:%d.%m.%Y}".encode("cp1251"), f"Дата={value}".encode("cp1251"))

    error = refusal(raw)

    assert error.line == line_of(raw, "Дата=")
    assert value in error.reason and "dd.mm.yyyy" in error.reason


def test_unknown_encoding_is_refused_with_its_line():
    raw = statement_bytes(DOCS, start=DAY, encoding_name="KOI8-R")

    error = refusal(raw)

    assert error.line == 3
    assert "unknown encoding" in error.reason and "KOI8-R" in error.reason


def test_declared_encoding_that_is_not_the_files_is_refused():
    raw = statement_bytes(DOCS, start=DAY, encoding="cp1251", encoding_name="DOS")

    error = refusal(raw)

    assert error.line == 3 and "not written in cp866" in error.reason


def test_file_of_another_bank_account_is_refused():
    raw = statement_bytes(DOCS, start=DAY, account=OTHER_ACCOUNT)

    error = refusal(raw)

    assert error.line == line_of(raw, "РасчСчет=")
    assert OTHER_ACCOUNT in error.reason and OWN_ACCOUNT in error.reason


def test_unsupported_format_version_is_refused():
    error = refusal(statement_bytes(DOCS, start=DAY, version="2.00"))

    assert error.line == 2 and "1.01-1.03" in error.reason


def test_file_that_is_not_an_exchange_file_is_refused():
    error = refusal("Выписка по счету\nКодировка=Windows\n".encode("cp1251"))

    assert error.line == 1 and "1CClientBankExchange" in error.reason


def test_key_without_value_separator_is_refused():
    raw = statement_bytes(DOCS, start=DAY, newline="\n")
    broken = raw.replace("Очередность=5".encode("cp1251"), "Очередность 5".encode("cp1251"), 1)

    assert refusal(broken).line == line_of(broken, "Очередность 5")


def test_invalid_payer_inn_is_refused():
    raw = statement_bytes([Doc("1", DAY, Decimal("1.00"), payer_inn="77070838")], start=DAY)

    assert refusal(raw).line == line_of(raw, "ПлательщикИНН=")
