"""CSV for people who open it in a spreadsheet: a cell that would run as a formula is written as plain text.

Spreadsheets treat a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula, so a product titled ``=HYPERLINK(...)`` would run on the marketer's machine. Such text cells get a leading
apostrophe (OWASP's advice); numbers are written as numbers, so a negative amount stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPE = "text/csv"  # the response adds "; charset=utf-8" itself


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will show it, never evaluate it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header line, then one line per row, each yielded as soon as it is written (for streaming)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for values in (header, *rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(v) for v in values])
        yield buffer.getvalue()
