"""Reading a CSV file: decoding (UTF-8, byte-order mark), physical line numbers, the header, and the error types."""

import csv
from dataclasses import dataclass
import io

BOM = "\ufeff"


@dataclass(frozen=True)
class CSVRowError:
    """One problem in one line of the file; `field` is blank for a problem with the row as a whole."""

    line: int
    field: str
    message: str

    def __str__(self):
        """E.g. "Line 4: billing_period: "weekly" is not a valid choice."."""
        return f"Line {self.line}: {self.field}: {self.message}" if self.field else f"Line {self.line}: {self.message}"


class CSVImportError(Exception):
    """The import created nothing; `errors` lists every problem found, in file order."""

    def __init__(self, errors):
        """Keep the errors; the message is the first few of them."""
        self.errors = list(errors)
        shown = "; ".join(str(error) for error in self.errors[:3])
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        super().__init__(f"CSV import failed, nothing was imported: {shown}{more}")


def decode(data):
    """The text of an uploaded file (bytes) or pasted data (str), without a leading byte-order mark.

    Raises CSVImportError naming the line and byte when the file is not UTF-8 (e.g. saved as "CSV" in a Windows
    code page rather than "CSV UTF-8").
    """
    if isinstance(data, str):
        return data.removeprefix(BOM)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        raise CSVImportError(
            [
                CSVRowError(
                    line,
                    "",
                    f"The file is not UTF-8 text (byte 0x{byte} cannot be decoded as UTF-8). "
                    'Save it as "CSV UTF-8" and import it again.',
                )
            ]
        ) from error


def read_rows(text):
    """Yield (line number, {column: value} or an error message) per data row; the header is line 1.

    Line numbers are physical lines: a quoted cell spanning lines counts them all, blank lines are skipped but counted.
    """
    reader = csv.reader(io.StringIO(text.removeprefix(BOM)))
    try:
        header = read_header(reader)
        start = reader.line_num + 1
        for values in reader:
            if len(values) > len(header):
                yield start, f"{len(values)} values but only {len(header)} column headers."
            elif values:
                yield start, dict(zip(header, values + [""] * (len(header) - len(values)), strict=True))
            start = reader.line_num + 1
    except csv.Error as error:
        yield reader.line_num, f"Not valid CSV: {error}."


def read_header(reader):
    """The column names of the first line, stripped of blanks (and of a byte-order mark, for pasted text)."""
    return [column.strip().removeprefix(BOM).strip() for column in next(reader, [])]


def header_of(text):
    """The column names of `text` (empty for an empty text or one that is not CSV at all)."""
    try:
        return read_header(csv.reader(io.StringIO(text.removeprefix(BOM))))
    except csv.Error:
        return []


def count_rows(data):
    """Roughly how many data rows `data` (text or bytes) has: its lines after the header; for choosing a path only."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return max(data.count(newline) + (0 if data.endswith(newline) else 1) - 1, 0)
