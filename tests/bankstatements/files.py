"""Generated bank statements in the 1C exchange format (1CClientBankExchange), as a bank's
client would export them, following the public description of format 1.03."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

OWN_ACCOUNT = "40702810900000000001"  # BANK_ACCOUNT_NUMBER's default, the service's account
PAYER_ACCOUNT = "40702810500000000777"
OTHER_ACCOUNT = "40702810100000000999"
BOM = b"\xef\xbb\xbf"


@dataclass
class Doc:
    number: str
    date: date
    amount: Decimal | str
    payer_inn: str = "7707083893"
    payer_name: str = 'ООО "Ромашка"'
    received_on: date | None = None  # the document's date when None and incoming
    incoming: bool = True
    kind: str = "Платежное поручение"
    purpose: str = "Оплата по счету № 15 от 20.04.2024. НДС не облагается"
    extra: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        amount = self.amount if isinstance(self.amount, str) else f"{self.amount:.2f}"
        day = f"{self.date:%d.%m.%Y}"
        if self.incoming:
            payer_account, recipient_account = PAYER_ACCOUNT, OWN_ACCOUNT
            received = f"{self.received_on or self.date:%d.%m.%Y}"
            written_off = ""
        else:
            payer_account, recipient_account = OWN_ACCOUNT, PAYER_ACCOUNT
            received, written_off = "", day
        fields = {
            "Номер": self.number,
            "Дата": day,
            "Сумма": amount,
            "ПлательщикСчет": payer_account,
            "ДатаСписано": written_off,
            "Плательщик": f"ИНН {self.payer_inn} {self.payer_name}",
            "ПлательщикИНН": self.payer_inn,
            "Плательщик1": self.payer_name,
            "ПлательщикРасчСчет": payer_account,
            "ПлательщикБанк1": 'ПАО "СБЕРБАНК"',
            "ПлательщикБИК": "044525225",
            "ПлательщикКорсчет": "30101810400000000225",
            "ПолучательСчет": recipient_account,
            "ДатаПоступило": received,
            "Получатель": 'ИНН 7736207543 ООО "Леджер"',
            "ПолучательИНН": "7736207543",
            "Получатель1": 'ООО "Леджер"',
            "ПолучательРасчСчет": recipient_account,
            "ПолучательБанк1": 'АО "АЛЬФА-БАНК"',
            "ПолучательБИК": "044525593",
            "ВидОплаты": "01",
            "Очередность": "5",
            "НазначениеПлатежа": self.purpose,
            **self.extra,
        }
        return [f"СекцияДокумент={self.kind}", *(f"{k}={v}" for k, v in fields.items()),
                "КонецДокумента"]  # fmt: skip


def statement_text(
    docs: list[Doc],
    *,
    start: date,
    end: date | None = None,
    account: str = OWN_ACCOUNT,
    version: str = "1.03",
    encoding_name: str = "Windows",
    opening: Decimal = Decimal("1000.00"),
    total_received: Decimal | None = None,
    total_paid: Decimal | None = None,
) -> str:
    end = end or start
    if total_received is None:
        total_received = sum((Decimal(d.amount) for d in docs if d.incoming), Decimal(0))
    if total_paid is None:
        total_paid = sum((Decimal(d.amount) for d in docs if not d.incoming), Decimal(0))
    received, paid = total_received, total_paid
    lines = [
        "1CClientBankExchange",
        f"ВерсияФормата={version}",
        f"Кодировка={encoding_name}",
        "Отправитель=Бухгалтерия предприятия, редакция 3.0",
        "Получатель=",
        f"ДатаСоздания={end:%d.%m.%Y}",
        "ВремяСоздания=09:15:00",
        f"ДатаНачала={start:%d.%m.%Y}",
        f"ДатаКонца={end:%d.%m.%Y}",
        f"РасчСчет={account}",
        "Документ=Платежное поручение",
        "СекцияРасчСчет",
        f"ДатаНачала={start:%d.%m.%Y}",
        f"ДатаКонца={end:%d.%m.%Y}",
        f"РасчСчет={account}",
        f"НачальныйОстаток={opening:.2f}",
        f"ВсегоПоступило={received:.2f}",
        f"ВсегоСписано={paid:.2f}",
        f"КонечныйОстаток={opening + received - paid:.2f}",
        "КонецРасчСчет",
    ]
    for doc in docs:
        lines += doc.lines()
    lines.append("КонецФайла")
    return "\n".join(lines) + "\n"


def statement_bytes(
    docs: list[Doc], *, encoding: str = "cp1251", newline: str = "\r\n", **kwargs
) -> bytes:
    """The statement encoded as a bank writes it: cp1251 (Кодировка=Windows), cp866
    (Кодировка=DOS) or UTF-8 with a BOM (which wins over Кодировка)."""
    if encoding == "cp866":
        kwargs.setdefault("encoding_name", "DOS")
    text = statement_text(docs, **kwargs).replace("\n", newline)
    if encoding == "utf-8-sig":
        return BOM + text.encode("utf-8")
    return text.encode(encoding)


def line_of(raw: bytes, text: str, encoding: str = "cp1251") -> int:
    """The 1-based number of the first line of `raw` that starts with `text`."""
    for number, line in enumerate(raw.decode(encoding).split("\n"), start=1):
        if line.startswith(text):
            return number
    raise AssertionError(f"{text!r} not in the file")
