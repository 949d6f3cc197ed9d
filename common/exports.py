"""Tables as CSV or XLSX (openpyxl), for admin downloads and report files.

Amounts stay Decimal in both: CSV writes their exact digits, XLSX stores them as numbers
with a two-decimal format. CSV is written for Excel in the active language: with a UTF-8
byte order mark (without one Excel reads UTF-8 as the system's code page), and, in
languages whose decimal separator is a comma (Russian), `;` between fields and `,` in
amounts, as Excel's list separator there is `;`. XLSX has no time zones, so aware
datetimes are written there in the service's time zone; CSV keeps their offset.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import formats, timezone
from django.utils.functional import Promise
from openpyxl import Workbook

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]


def _cell(value):
    if isinstance(value, Promise):  # a translated label
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Spreadsheets have no time zones: write the service's local time.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def csv_dialect() -> tuple[str, str]:
    """(field separator, decimal separator) of CSV files in the active language."""
    decimal_separator = formats.get_format("DECIMAL_SEPARATOR")
    return (";" if decimal_separator == "," else ","), decimal_separator


def csv_bytes(sheet: Sheet, *, for_excel: bool = True) -> bytes:
    """The sheet as CSV for Excel in the active language, or, with `for_excel=False`, as
    plain comma-separated UTF-8 with `.` decimals (files read by programs)."""
    delimiter, decimal_separator = csv_dialect() if for_excel else (",", ".")

    def cell(value):
        if isinstance(value, Decimal) and decimal_separator != ".":
            return str(value).replace(".", decimal_separator)
        return value

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([str(header) for header in sheet.headers])
    writer.writerows([cell(value) for value in row] for row in sheet.rows)
    return out.getvalue().encode("utf-8-sig" if for_excel else "utf-8")


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        worksheet = book.create_sheet(str(sheet.title)[:31])  # Excel's limit on sheet names
        worksheet.append([str(header) for header in sheet.headers])
        for row in sheet.rows:
            worksheet.append([_cell(value) for value in row])
        for cells in worksheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_response(
    *, filename: str, fmt: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> HttpResponse:
    """A download of `rows` under `headers`, as `fmt` ("csv" or "xlsx")."""
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"Unknown export format {fmt!r}")
    sheet = Sheet(title=filename, headers=headers, rows=rows)
    content = csv_bytes(sheet) if fmt == "csv" else xlsx_bytes([sheet])
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
