"""Tables as CSV or XLSX (openpyxl), for admin downloads and report files.

Amounts stay Decimal in both: CSV writes their exact digits, XLSX stores them as numbers
with a two-decimal format. XLSX has no time zones, so aware datetimes are written there in
the service's time zone; CSV keeps their offset.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
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
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Spreadsheets have no time zones: write the service's local time.
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def csv_bytes(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.headers)
    writer.writerows(sheet.rows)
    return out.getvalue().encode()


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        worksheet = book.create_sheet(sheet.title[:31])  # Excel's limit on sheet names
        worksheet.append(list(sheet.headers))
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
