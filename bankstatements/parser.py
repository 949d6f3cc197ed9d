"""Reading bank statements in the 1C exchange format (1CClientBankExchange), versions 1.01-1.03.

A file is text lines of `key=value`:

    1CClientBankExchange
    ВерсияФормата=1.03
    Кодировка=Windows
    ...header: ДатаНачала, ДатаКонца, РасчСчет, Документ...
    СекцияРасчСчет
    ...ДатаНачала, ДатаКонца, РасчСчет, НачальныйОстаток, ВсегоПоступило, ВсегоСписано,
    КонечныйОстаток...
    КонецРасчСчет
    СекцияДокумент=Платежное поручение
    ...Номер, Дата, Сумма, ПлательщикСчет, ПлательщикИНН, Плательщик, ПолучательСчет,
    ДатаПоступило, ДатаСписано, НазначениеПлатежа...
    КонецДокумента
    КонецФайла

The text is decoded by its BOM (UTF-8) when it has one, else by `Кодировка` (`Windows` is
cp1251, `DOS` is cp866); CRLF and LF line ends are both read. Dates are dd.mm.yyyy and
amounts roubles.kopecks (`145000.00`), parsed straight to Decimal. Anything else, or a file
that is not complete, is refused whole with the line number and the reason
(StatementFormatError); nothing here touches the database.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

MARKER = "1CClientBankExchange"
VERSIONS = ("1.01", "1.02", "1.03")
ENCODINGS = {"Windows": "cp1251", "DOS": "cp866"}
UTF8_BOM = b"\xef\xbb\xbf"

ACCOUNT_SECTION, ACCOUNT_SECTION_END = "СекцияРасчСчет", "КонецРасчСчет"
DOCUMENT_SECTION, DOCUMENT_SECTION_END = "СекцияДокумент", "КонецДокумента"
FILE_END = "КонецФайла"

_AMOUNT = re.compile(r"\A[0-9]{1,16}\.[0-9]{2}\Z")
_BALANCE = re.compile(r"\A-?[0-9]{1,16}\.[0-9]{2}\Z")
_DATE = re.compile(r"\A[0-9]{2}\.[0-9]{2}\.[0-9]{4}\Z")
_ACCOUNT = re.compile(r"\A[0-9]{20}\Z")
_INN = re.compile(r"\A(?:[0-9]{10}|[0-9]{12})\Z")
# Written for a payer without an INN (a person, a foreign payer).
_NO_INN = ("", "0")
MAX_LINE = 2000


class StatementFormatError(ValueError):
    """The file is not a statement we accept; `line` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}" if line else reason)


@dataclass(frozen=True)
class AccountSection:
    """СекцияРасчСчет: the account's balances and turnover for a period."""

    line: int
    start: date
    end: date
    account: str
    opening_balance: Decimal
    total_received: Decimal
    total_paid: Decimal
    closing_balance: Decimal


@dataclass(frozen=True)
class Document:
    """СекцияДокумент: one payment document the bank executed."""

    line: int  # where its section starts
    kind: str  # the document type after СекцияДокумент=
    number: str
    date: date
    amount: Decimal
    payer_account: str
    payer_inn: str  # "" when the payer has none
    payer_name: str
    recipient_account: str
    recipient_inn: str
    recipient_name: str
    received_on: date | None  # ДатаПоступило
    written_off_on: date | None  # ДатаСписано
    purpose: str
    fields: dict[str, str] = field(repr=False, compare=False)


@dataclass(frozen=True)
class ParsedStatement:
    format_version: str
    encoding: str  # the codec the text was decoded with
    sender: str
    receiver: str
    created_on: date | None
    start: date
    end: date
    account: str
    sections: tuple[AccountSection, ...]
    documents: tuple[Document, ...]


def _decode(raw: bytes) -> tuple[str, str]:
    """(text, codec): UTF-8 when the file starts with its BOM, else what `Кодировка` says."""
    if raw.startswith(UTF8_BOM):
        try:
            return raw[len(UTF8_BOM) :].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            raise StatementFormatError(
                raw[: exc.start].count(b"\n") + 1, "not valid UTF-8 although it has a UTF-8 BOM"
            ) from None
    codec = None
    for number, line in enumerate(raw.split(b"\n")[:50], start=1):
        line = line.rstrip(b"\r")
        for candidate in ("cp1251", "cp866", "utf-8"):
            key = "Кодировка=".encode(candidate)
            if line.startswith(key):
                value = line[len(key) :].decode("ascii", errors="replace").strip()
                if value not in ENCODINGS:
                    raise StatementFormatError(
                        number, f"unknown encoding Кодировка={value!r} (expected Windows or DOS)"
                    )
                codec = ENCODINGS[value]
                if "Кодировка=".encode(codec) != key:
                    raise StatementFormatError(
                        number, f"the file says Кодировка={value} but is not written in {codec}"
                    )
                break
        if codec:
            break
    if codec is None:
        raise StatementFormatError(0, "the header has no Кодировка (Windows or DOS)")
    try:
        return raw.decode(codec), codec
    except UnicodeDecodeError as exc:
        raise StatementFormatError(
            raw[: exc.start].count(b"\n") + 1, f"a byte that is not {codec}"
        ) from None


def _amount(line: int, key: str, value: str, pattern=_AMOUNT) -> Decimal:
    if not pattern.match(value):
        raise StatementFormatError(
            line, f"{key}={value!r} is not an amount in roubles.kopecks such as 145000.00"
        )
    return Decimal(value)


def _date(line: int, key: str, value: str) -> date:
    if _DATE.match(value):
        try:
            return datetime.strptime(value, "%d.%m.%Y").date()
        except ValueError:
            pass
    raise StatementFormatError(line, f"{key}={value!r} is not a date dd.mm.yyyy")


class _Section:
    """The key=value lines of one part of the file, with the line of each key."""

    def __init__(self, name: str, line: int):
        self.name = name
        self.line = line
        self.values: dict[str, str] = {}
        self.lines: dict[str, int] = {}
        self.repeated: dict[str, list[str]] = {}

    def add(self, line: int, key: str, value: str, repeatable=()) -> None:
        if key in repeatable:
            self.repeated.setdefault(key, []).append(value)
            self.lines.setdefault(key, line)
            return
        if key in self.values:
            raise StatementFormatError(line, f"{key} appears twice in {self.name}")
        self.values[key] = value
        self.lines[key] = line

    def at(self, key: str) -> int:
        return self.lines.get(key, self.line)

    def required(self, key: str) -> str:
        value = self.values.get(key, "").strip()
        if key in self.values and not value:
            raise StatementFormatError(self.at(key), f"{key} is empty")
        if not value:
            raise StatementFormatError(self.line, f"{self.name} has no {key}")
        return value

    def optional(self, key: str) -> str:
        return self.values.get(key, "").strip()

    def day(self, key: str) -> date:
        return _date(self.at(key), key, self.required(key))

    def optional_day(self, key: str) -> date | None:
        value = self.optional(key)
        return _date(self.at(key), key, value) if value else None

    def amount(self, key: str, pattern=_AMOUNT) -> Decimal:
        return _amount(self.at(key), key, self.required(key), pattern)


def _account_section(section: _Section) -> AccountSection:
    start, end = section.day("ДатаНачала"), section.optional_day("ДатаКонца")
    return AccountSection(
        line=section.line,
        start=start,
        end=end or start,
        account=section.required("РасчСчет"),
        opening_balance=section.amount("НачальныйОстаток", _BALANCE),
        total_received=section.amount("ВсегоПоступило"),
        total_paid=section.amount("ВсегоСписано"),
        closing_balance=section.amount("КонечныйОстаток", _BALANCE),
    )


def _document(section: _Section, kind: str) -> Document:
    amount = section.amount("Сумма")
    if amount <= 0:
        raise StatementFormatError(section.at("Сумма"), "Сумма must be more than zero")
    payer_inn = section.optional("ПлательщикИНН")
    if payer_inn in _NO_INN:
        payer_inn = ""
    elif not _INN.match(payer_inn):
        raise StatementFormatError(
            section.at("ПлательщикИНН"), f"ПлательщикИНН={payer_inn!r} is not 10 or 12 digits"
        )
    number = section.required("Номер")
    if len(number) > 128:
        raise StatementFormatError(section.at("Номер"), "Номер is longer than 128 characters")
    return Document(
        line=section.line,
        kind=kind,
        number=number,
        date=section.day("Дата"),
        amount=amount,
        payer_account=section.optional("ПлательщикСчет") or section.optional("ПлательщикРасчСчет"),
        payer_inn=payer_inn,
        payer_name=section.optional("Плательщик1") or section.optional("Плательщик"),
        recipient_account=(
            section.optional("ПолучательСчет") or section.optional("ПолучательРасчСчет")
        ),
        recipient_inn=section.optional("ПолучательИНН"),
        recipient_name=section.optional("Получатель1") or section.optional("Получатель"),
        received_on=section.optional_day("ДатаПоступило"),
        written_off_on=section.optional_day("ДатаСписано"),
        purpose=section.optional("НазначениеПлатежа"),
        fields=dict(section.values),
    )


def statement_parse(raw: bytes, *, own_account: str) -> ParsedStatement:
    """Parse a whole statement file of the account `own_account`, or raise
    StatementFormatError naming the first line that is wrong and why."""
    if not raw.strip():
        raise StatementFormatError(0, "the file is empty")
    text, codec = _decode(raw)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = _Section("the header", 1)
    sections: list[AccountSection] = []
    documents: list[Document] = []
    current: _Section | None = None
    kind = ""
    ended = False
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if len(line) > MAX_LINE:
            raise StatementFormatError(number, f"longer than {MAX_LINE} characters")
        stripped = line.strip()
        if number == 1:
            if stripped != MARKER:
                raise StatementFormatError(1, f"the file does not start with {MARKER}")
            continue
        if ended:
            if stripped:
                raise StatementFormatError(number, f"text after {FILE_END}")
            continue
        if not stripped:
            continue
        key, has_value, value = stripped.partition("=")
        key = key.strip()
        if key in (ACCOUNT_SECTION, DOCUMENT_SECTION, FILE_END):
            if current is not None:
                closing = (
                    ACCOUNT_SECTION_END
                    if current.name == ACCOUNT_SECTION
                    else (DOCUMENT_SECTION_END)
                )
                raise StatementFormatError(
                    number,
                    f"{key} before {closing} of the {current.name} opened at line {current.line}",
                )
            if key == FILE_END:
                ended = True
            elif key == ACCOUNT_SECTION:
                current = _Section(ACCOUNT_SECTION, number)
            else:
                kind = value.strip()
                if not kind:
                    raise StatementFormatError(number, "СекцияДокумент= names no document type")
                current = _Section(DOCUMENT_SECTION, number)
            continue
        if key in (ACCOUNT_SECTION_END, DOCUMENT_SECTION_END):
            expected = ACCOUNT_SECTION if key == ACCOUNT_SECTION_END else DOCUMENT_SECTION
            if current is None or current.name != expected:
                raise StatementFormatError(number, f"{key} without {expected}")
            if current.name == ACCOUNT_SECTION:
                sections.append(_account_section(current))
            else:
                documents.append(_document(current, kind))
            current = None
            continue
        if not has_value or not key:
            raise StatementFormatError(number, f"expected key=value, got {stripped[:60]!r}")
        if current is None and (sections or documents):
            raise StatementFormatError(number, f"{key} outside any section after the header")
        if current is None:
            header.add(number, key, value, repeatable=("РасчСчет", "Документ"))
        else:
            current.add(number, key, value)
    if current is not None:
        closing = ACCOUNT_SECTION_END if current.name == ACCOUNT_SECTION else DOCUMENT_SECTION_END
        raise StatementFormatError(
            len(lines),
            f"the file ends inside the {current.name} opened at line {current.line}"
            f" (no {closing}): truncated",
        )
    if not ended:
        raise StatementFormatError(len(lines), f"the file ends without {FILE_END}: truncated")
    return _statement(header, codec, sections, documents, own_account)


def _statement(header, codec, sections, documents, own_account) -> ParsedStatement:
    version = header.required("ВерсияФормата")
    if version not in VERSIONS:
        raise StatementFormatError(
            header.at("ВерсияФормата"), f"format version {version} is not one of 1.01-1.03"
        )
    header.required("Кодировка")
    start, end = header.day("ДатаНачала"), header.day("ДатаКонца")
    if end < start:
        raise StatementFormatError(header.at("ДатаКонца"), "ДатаКонца is before ДатаНачала")
    accounts = [a.strip() for a in header.repeated.get("РасчСчет", []) if a.strip()]
    if not accounts:
        raise StatementFormatError(header.line, "the header has no РасчСчет")
    for account in accounts:
        if not _ACCOUNT.match(account):
            raise StatementFormatError(
                header.at("РасчСчет"), f"РасчСчет={account!r} is not 20 digits"
            )
    if own_account not in accounts:
        raise StatementFormatError(
            header.at("РасчСчет"),
            f"a statement of account {', '.join(accounts)}, not of this service's account"
            f" {own_account}",
        )
    own_sections = []
    for section in sections:
        if section.account == own_account:
            own_sections.append(section)
    if not own_sections:
        raise StatementFormatError(
            0, f"no {ACCOUNT_SECTION} for account {own_account}: balances and totals are missing"
        )
    return ParsedStatement(
        format_version=version,
        encoding=codec,
        sender=header.optional("Отправитель"),
        receiver=header.optional("Получатель"),
        created_on=header.optional_day("ДатаСоздания"),
        start=start,
        end=end,
        account=own_account,
        sections=tuple(own_sections),
        documents=tuple(documents),
    )
