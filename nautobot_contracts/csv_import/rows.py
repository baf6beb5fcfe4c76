"""From file rows to serializer data, and errors in words.

Header checks, blank relations, the rules shared with Nautobot's own parser (CSVColumns, normalize_row), flattened
serializer errors and database refusals.
"""

from django.db.models import CheckConstraint
from nautobot.apps.api import NautobotCSVParser
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import ParseError

from nautobot_contracts.compat import CSV_NO_OBJECT
from nautobot_contracts.csv_import.reading import BOM, CSVImportError, CSVRowError, header_of, read_rows


def header_errors(header, serializer):
    """Problems with the header line: unknown or unnamed columns, which would lose data silently."""
    if not header:
        return [CSVRowError(1, "", "The file is empty: give a header line, then one line per object.")]
    errors = []
    if any(not column for column in header):
        position = next(n for n, column in enumerate(header, start=1) if not column)
        errors.append(CSVRowError(1, "", f"Column {position} has no name in the header line."))
    unknown = [column for column in header if column and not is_known_column(column, serializer)]
    if unknown:
        hint = (
            " The first line must be the column headers."
            if len(unknown) == len([column for column in header if column])
            else ""
        )
        names = ", ".join(f'"{column}"' for column in unknown)
        errors.append(CSVRowError(1, "", f"Unknown column{'s' if len(unknown) > 1 else ''} {names}.{hint}"))
    return errors


def is_known_column(column, serializer):
    """True when `column` (``tenant__name``, ``cf_x``, ``id``) names a field of `serializer` (read-only included)."""
    name = column.split("__", 1)[0]
    return name.startswith("cf_") or name in serializer.fields


def blank_relations_to_none(row):
    """Mark relation lookups whose every column is blank (``tenant__name`` = "") as absent, i.e. no related object.

    Nautobot's parser would otherwise look for an object whose name is the empty string.
    """
    groups = {}
    for column in row:
        if "__" in column and not column.startswith("cf_"):
            groups.setdefault(column.split("__", 1)[0], []).append(column)
    for columns in groups.values():
        if all(not (row[column] or "").strip() for column in columns):
            for column in columns:
                row[column] = CSV_NO_OBJECT
    return row


def parse_rows(text, serializer_class, request=None):
    """[(line, serializer data)] for every data row of `text`, or CSVImportError listing every file-level problem.

    This is the one reading of a file all the app's doors share: header checks, line numbers, blank relations.
    """
    parser = NautobotCSVParser()
    reference = serializer_class(context={"request": request, "depth": 0})
    errors = header_errors(header_of(text), reference)
    if errors:
        raise CSVImportError(errors)
    parsed = []
    for counter, (line, row) in enumerate(read_rows(text), start=1):
        if isinstance(row, str):
            errors.append(CSVRowError(line, "", row))
            continue
        try:
            data = parser.row_elements_to_data(counter, blank_relations_to_none(row), serializer=reference)
            parsed.append((line, data))
        except ParseError as error:
            errors.append(CSVRowError(line, "", str(error.detail).removeprefix(f"Row {counter}: ")))
    if not parsed and not errors:
        errors.append(CSVRowError(1, "", "No data rows: give a header line, then one line per object."))
    if errors:
        raise CSVImportError(errors)
    return parsed


class CSVColumns(dict):
    """A serializer's fields as NautobotCSVParser sees them, for parsers the app cannot replace (Import Objects Job).

    The parser looks each column up with ``fields.get(name)`` and silently skips a name it does not find; here a
    byte-order mark is not part of the name, and an unknown name stops the parse with a ParseError naming it
    (nothing is imported). Only the parser reads fields through ``get()``.
    """

    def get(self, key, default=None):
        """The field named `key` (ignoring a byte-order mark); ParseError for a name that is no field."""
        if key in self:
            return self[key]
        name = key.removeprefix(BOM).strip()
        if name in self:
            return self[name]
        if not name or name.startswith("cf_"):
            return default
        raise ParseError(
            f'Unknown column "{name}" (or "{name}__..."): no such field; check the header line for a typo. '
            "Nothing was imported."
        )


def csv_columns(fields, serializer):
    """`fields` as :class:`CSVColumns` when `serializer` is a parser's reference serializer (no data, no instance)."""
    if hasattr(serializer, "initial_data") or serializer.instance is not None or serializer.parent is not None:
        return fields
    cached = serializer.__dict__.get("_csv_columns")
    if cached is None or cached.source is not fields:
        cached = CSVColumns(fields)
        cached.source = fields
        serializer.__dict__["_csv_columns"] = cached
    return cached


def normalize_row(data, fields):
    """Incoming data with the CSV rules every door shares: no byte-order mark in a key, blank relation = none.

    A relation given by attributes that are all blank (``{"name": ""}``, from a blank ``tenant__name`` cell) means
    "no related object": None for an optional relation, absent (so "required") for a required one.
    """
    if not isinstance(data, dict):
        return data
    data = {key.removeprefix(BOM) if isinstance(key, str) else key: value for key, value in data.items()}
    for name, value in list(data.items()):
        field = fields.get(name) if not isinstance(fields, CSVColumns) else dict.get(fields, name)
        if (
            isinstance(field, drf_serializers.RelatedField)
            and isinstance(value, dict)
            and all(_blank(leaf) for leaf in _leaves(value))
        ):
            if field.required:
                del data[name]
            else:
                data[name] = None
    return data


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def flatten_errors(errors, field=""):
    """Yield (field, message) pairs from a DRF or Django error structure (dicts, lists, nested serializers)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = "" if key in ("non_field_errors", "__all__") else key
            yield from flatten_errors(value, f"{field}.{name}" if field and name else field or name)
    elif isinstance(errors, (list, tuple)):
        for value in errors:
            yield from flatten_errors(value, field)
    else:
        yield field, str(errors)


def integrity_message(error, model):
    """A database refusal in words: a unique clash, or the violated rule's own message."""
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    for constraint in model._meta.constraints:
        if constraint.name == name and isinstance(constraint, CheckConstraint):
            return str(constraint.get_violation_error_message())
    detail = getattr(diag, "message_detail", None) or str(error).strip().splitlines()[-1]
    return f"Conflicts with an existing object or an earlier line of this file ({detail.strip()})."
