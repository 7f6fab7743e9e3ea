"""CSV files that people open in a spreadsheet. Every CSV export writes its cells through `csv_response` (or
`csv_cell`), so that no text a user typed (an organisation's name, a team's) runs as a formula when the file is
opened (CSV injection, OWASP).

Numbers are written as numbers: a figure such as a wellbeing change of -1.5 or a refund of -20.00 stays a number
the spreadsheet can add up. Only text cells are guarded."""

import csv
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.http import HttpResponse

# What a spreadsheet reads as the start of a formula: = + - @, and their full-width forms (＝ ＋ － ＠), which
# some spreadsheets (in East Asian locales) take as the same.
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# A cell starting with a tab or a line break is guarded whatever follows (spreadsheets may drop them on import).
GUARDED_FIRST_CHARACTERS = frozenset("\t\r\n")


def neutralise_formula(text: str) -> str:
    """`text` with an apostrophe in front when a spreadsheet could run it as a formula: when it starts, after
    any whitespace (spaces, tabs, line breaks, no-break and ideographic spaces), with = + - @ or a full-width
    form of one, or starts with a tab or a line break. The apostrophe makes the spreadsheet show the text as it
    is; other text is returned unchanged."""
    if text[:1] in GUARDED_FIRST_CHARACTERS or text.lstrip()[:1] in FORMULA_STARTS:
        return f"'{text}"
    return text


def csv_cell(value) -> str:
    """One CSV cell: numbers as numbers (a Decimal in plain notation, never 1E+3), dates as 2026-01-31, None as
    an empty cell, and any text through `neutralise_formula`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return neutralise_formula(str(value))


def csv_response(*, filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    """A CSV download (UTF-8, one header line) whose every cell went through `csv_cell`."""
    response = HttpResponse(
        content_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
    writer = csv.writer(response)
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return response
