"""CSV import, all or nothing, with every bad row reported by its line number in the file.

Nautobot's own import paths (the "Import Objects" system Job behind a list view's Import button, the
``<model>/import/`` form view, and REST ``POST`` with ``Content-Type: text/csv``) parse with ``NautobotCSVParser`` and
validate each row through the model's REST serializer. This module keeps exactly that parsing and validation, and
changes what Nautobot leaves rough:

* errors name the physical line of the file (the header is line 1; a quoted multi-line cell counts its lines), where
  Nautobot says "Row N" for the N-th data row;
* every error of every bad row is reported (the form view shows only the first error of each field);
* a database conflict in one row (a duplicate of an earlier row of the same file) is that row's error, not a crash;
* an optional relation given by attribute (``tenant__name``) and left blank means "none" rather than "no tenant
  named ''";
* one bad row and nothing is created: the rows that were fine are rolled back too;
* a byte-order mark (Excel's "CSV UTF-8") is not part of the first column's name; a file that is not UTF-8 is an
  error naming the encoding problem; an unknown column (a typo) is an error naming it, not data silently dropped; a
  file with no data rows is an error, not a "success" that created nothing.

Three doors share these rules: :class:`ContractsCSVParser` (REST ``text/csv``), :func:`import_csv` (the
``<model>/import/`` page through :class:`CSVImportViewMixin`, and the app's "Import contracts CSV" Job, which runs
files over :data:`BACKGROUND_ROWS` rows in the background) and, for Nautobot's own Import Objects Job, whose parser
cannot be swapped, the serializers' ``CSVColumnsSerializerMixin`` (``api/serializers.py``).

The package, by concern: ``reading`` (decoding, line numbers, header, error types), ``rows`` (row normalization,
header checks, errors in words), ``importer`` (validation and bulk creation, all or nothing) and ``hooks`` (the REST
parser, the import page, the hand-off to the Job). Every public name stays importable from here.
"""

from nautobot_contracts.csv_import.hooks import (
    BACKGROUND_ROWS,
    IMPORT_JOB,
    ContractsCSVParser,
    CSVImportViewMixin,
    import_job_model,
)
from nautobot_contracts.csv_import.importer import (
    CHUNK_ROWS,
    PROGRESS_EVERY,
    cache_related_lookups,
    import_csv,
    import_serializer_class,
)
from nautobot_contracts.csv_import.reading import (
    BOM,
    CSVImportError,
    CSVRowError,
    count_rows,
    decode,
    header_of,
    read_header,
    read_rows,
)
from nautobot_contracts.csv_import.rows import (
    CSVColumns,
    blank_relations_to_none,
    csv_columns,
    flatten_errors,
    header_errors,
    integrity_message,
    is_known_column,
    normalize_row,
    parse_rows,
)

__all__ = (
    "BACKGROUND_ROWS",
    "BOM",
    "CHUNK_ROWS",
    "IMPORT_JOB",
    "PROGRESS_EVERY",
    "CSVColumns",
    "CSVImportError",
    "CSVImportViewMixin",
    "CSVRowError",
    "ContractsCSVParser",
    "blank_relations_to_none",
    "cache_related_lookups",
    "count_rows",
    "csv_columns",
    "decode",
    "flatten_errors",
    "header_errors",
    "header_of",
    "import_csv",
    "import_job_model",
    "import_serializer_class",
    "integrity_message",
    "is_known_column",
    "normalize_row",
    "parse_rows",
    "read_header",
    "read_rows",
)
