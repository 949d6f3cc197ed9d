"""Tables to CSV or XLSX downloads (openpyxl for XLSX); amounts stay Decimal in both."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_response(
    *, filename: str, fmt: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> HttpResponse:
    """A download of `rows` under `headers`, as `fmt` ("csv" or "xlsx")."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(rows)
        content = out.getvalue().encode()
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = filename[:31]
        sheet.append(list(headers))
        for row in rows:
            sheet.append([_cell(value) for value in row])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _cell(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones: write the service's local time.
        return timezone.localtime(value).replace(tzinfo=None)
    return value
