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
"""

import csv
from dataclasses import dataclass
import io
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CheckConstraint
from django.shortcuts import redirect
from nautobot.apps.api import NautobotCSVParser, ValidatedModelSerializer
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import ParseError, ValidationError as DRFValidationError
from rest_framework.response import Response

from nautobot_contracts.compat import CSV_NO_OBJECT

BOM = "\ufeff"
# Files with more data rows than this are imported by the "Import contracts CSV" Job, not in the web request.
BACKGROUND_ROWS = 500
# How often (in rows) a background import logs its progress.
PROGRESS_EVERY = 500


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


def count_rows(data):
    """Roughly how many data rows `data` (text or bytes) has: its lines after the header; for choosing a path only."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return max(data.count(newline) + (0 if data.endswith(newline) else 1) - 1, 0)


class ContractsCSVParser(NautobotCSVParser):
    """REST ``text/csv``: Nautobot's parser with the app's file rules; every problem is a 400 naming its line."""

    def parse(self, stream, media_type=None, parser_context=None):
        """Parse like NautobotCSVParser, but through :func:`parse_rows` (BOM, encoding, header, blank relations)."""
        parser_context = parser_context or {}
        view = parser_context.get("view")
        serializer_class = parser_context.get("serializer_class") or (view.get_serializer_class() if view else None)
        if serializer_class is None:
            raise ParseError("No serializer_class was provided by the parser_context")
        try:
            rows = parse_rows(decode(stream.read()), serializer_class, parser_context.get("request"))
        except CSVImportError as error:
            raise ParseError([str(row_error) for row_error in error.errors]) from error
        data = [row for _, row in rows]
        if "pk" in parser_context.get("kwargs", {}):
            return data[0]
        return data


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


def _flatten(errors, field=""):
    """Yield (field, message) pairs from a DRF or Django error structure (dicts, lists, nested serializers)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = "" if key in ("non_field_errors", "__all__") else key
            yield from _flatten(value, f"{field}.{name}" if field and name else field or name)
    elif isinstance(errors, (list, tuple)):
        for value in errors:
            yield from _flatten(value, field)
    else:
        yield field, str(errors)


def _integrity_message(error, model):
    """A database refusal in words: a unique clash, or the violated rule's own message."""
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    for constraint in model._meta.constraints:
        if constraint.name == name and isinstance(constraint, CheckConstraint):
            return str(constraint.get_violation_error_message())
    detail = getattr(diag, "message_detail", None) or str(error).strip().splitlines()[-1]
    return f"Conflicts with an existing object or an earlier line of this file ({detail.strip()})."


class _DatabaseChecksAtInsert(ValidatedModelSerializer):
    """Placed just before Nautobot's ValidatedModelSerializer: its full_clean() skips the checks the database makes.

    Per row, full_clean() spends a query (and a savepoint) on every unique and check constraint and every foreign key
    just looked up; in an import the INSERT makes the same checks, and import_csv reports its refusal on the line.
    Subclasses' own validate() still runs first, with `self.instance` unset as for any create.
    """

    def validate(self, attrs):
        """Run Nautobot's validate() on an instance whose full_clean() leaves constraints to the database."""
        model = self.Meta.model
        foreign_keys = [field.name for field in model._meta.concrete_fields if field.many_to_one]
        instance = model()

        def full_clean(exclude=None, validate_unique=True, validate_constraints=True):
            model.full_clean(
                instance,
                exclude=[*(exclude or ()), *foreign_keys],
                validate_unique=False,
                validate_constraints=False,
            )

        instance.full_clean = full_clean
        self.instance = instance  # Nautobot's validate() cleans self.instance when there is one
        try:
            return super().validate(attrs)
        finally:
            self.instance = None


def import_serializer_class(serializer_class):
    """`serializer_class` with :class:`_DatabaseChecksAtInsert` just before ValidatedModelSerializer in its MRO."""
    if not issubclass(serializer_class, ValidatedModelSerializer):
        return serializer_class
    return type(f"{serializer_class.__name__}ForImport", (serializer_class, _DatabaseChecksAtInsert), {})


def cache_related_lookups(serializer, user=None):
    """Memoize the natural-key lookups of `serializer`'s relation fields for the length of one import.

    A file names the same provider, status or tenant on many rows; each distinct reference is looked up once.
    Relations to the imported model itself are left alone, since the import may create the object they name.
    With a `user`, relations to the app's own models (providers, contracts, invoices) find only what that user may
    view: a row naming a hidden contract fails as one naming no contract, so an import neither attaches records to
    objects the user cannot see nor tells whether they exist. (Nautobot's own import leaves lookups unrestricted.)
    """
    model = serializer.Meta.model
    for field in serializer.fields.values():
        if not isinstance(field, drf_serializers.RelatedField) or field.read_only:
            continue
        queryset = getattr(field, "queryset", None)
        if queryset is None or queryset.model is model:
            continue
        if user is not None and queryset.model._meta.app_label == model._meta.app_label:
            field.queryset = queryset.restrict(user, "view")
        field.to_internal_value = _memoized(field.to_internal_value)


def _memoized(lookup):
    results = {}

    def cached(data):
        key = json.dumps(data, sort_keys=True, default=str)
        if key not in results:
            try:
                results[key] = (lookup(data), None)
            except (DRFValidationError, ValidationError) as error:
                results[key] = (None, error)
        value, error = results[key]
        if error is not None:
            raise error
        return value

    return cached


CHUNK_ROWS = 100


class _ChunkFailed(Exception):
    """A row of the chunk failed validation: replay the chunk row by row."""


def _report_progress(progress, before, done, total):
    """Call `progress` when the rows from `before` to `done` crossed a multiple of PROGRESS_EVERY, and at the end."""
    if progress and (done // PROGRESS_EVERY > before // PROGRESS_EVERY or done == total):
        progress(done // PROGRESS_EVERY * PROGRESS_EVERY if done < total else done, total)


def _save_rows(serializer, rows, model, per_row_savepoint):
    """Validate and create each (line, data) row; ([(line, object)], [CSVRowError]).

    Without per-row savepoints an IntegrityError propagates (the caller's savepoint is then unusable).
    """
    created, errors = [], []
    for line, row in rows:
        try:
            attrs = serializer.run_validation(row)
        except DRFValidationError as error:
            errors.extend(CSVRowError(line, field, message) for field, message in _flatten(error.detail))
            if not per_row_savepoint:
                return created, errors
            continue
        try:
            if per_row_savepoint:
                with transaction.atomic():
                    created.append((line, serializer.create(attrs)))
            else:
                created.append((line, serializer.create(attrs)))
        except IntegrityError as error:
            if not per_row_savepoint:
                raise
            errors.append(CSVRowError(line, "", _integrity_message(error, model)))
        except DRFValidationError as error:
            errors.extend(CSVRowError(line, field, message) for field, message in _flatten(error.detail))
        except ValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            errors.extend(CSVRowError(line, field, message) for field, message in _flatten(detail))
        if errors and not per_row_savepoint:
            return created, errors
    return created, errors


def import_csv(data, serializer_class, queryset, request=None, progress=None, user=None):
    """Create one object per data row of `data` (text or bytes) through `serializer_class`, all or nothing.

    `queryset` is the model's queryset restricted to what the user may add; a created object outside it is refused,
    as in Nautobot's own import. Each object is saved on its own (so change logging and webhooks fire) through one
    serializer whose natural-key lookups are cached, and restricted to what `user` (default: the request's) may view
    for the app's own models. `progress(done, total)` is called every PROGRESS_EVERY rows.
    Returns the created objects, or raises CSVImportError listing every bad line.
    """
    rows = parse_rows(decode(data), serializer_class, request)
    model = serializer_class.Meta.model
    # One serializer for every row, as DRF's ListSerializer does with its child: fields are built once.
    serializer = import_serializer_class(serializer_class)(context={"request": request})
    cache_related_lookups(serializer, user=user or getattr(request, "user", None))
    errors = []
    created = []
    with transaction.atomic():
        # A savepoint per chunk of rows, not per row: a refusal at INSERT rolls the chunk back and replays it row by
        # row to find the line (the import has failed by then; the replay only serves the report).
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            if not errors:
                try:
                    with transaction.atomic():
                        chunk_created, chunk_errors = _save_rows(serializer, chunk, model, per_row_savepoint=False)
                        if chunk_errors:
                            raise _ChunkFailed
                except (IntegrityError, _ChunkFailed):
                    pass
                else:
                    created += chunk_created
                    _report_progress(progress, start, start + len(chunk), len(rows))
                    continue
            chunk_created, chunk_errors = _save_rows(serializer, chunk, model, per_row_savepoint=True)
            created += chunk_created
            errors += chunk_errors
            _report_progress(progress, start, start + len(chunk), len(rows))
        # One query for the "add" permission constraints of every created object.
        allowed = set(queryset.filter(pk__in=[obj.pk for _, obj in created]).values_list("pk", flat=True))
        errors.extend(
            CSVRowError(line, "", "You do not have permission to create an object like this.")
            for line, obj in created
            if obj.pk not in allowed
        )
        if errors:
            # Raised inside the atomic block, so every row created so far is rolled back.
            raise CSVImportError(sorted(errors, key=lambda error: error.line))
    return [obj for _, obj in created]


IMPORT_JOB = ("nautobot_contracts.jobs.imports", "ImportContractsCSV")


def import_job_model(user):
    """The installed, enabled import Job `user` may run, or None (a large file is then imported in the request)."""
    from nautobot.extras.models import Job as JobModel  # pylint: disable=import-outside-toplevel

    module_name, class_name = IMPORT_JOB
    job_model = JobModel.objects.filter(module_name=module_name, job_class_name=class_name, enabled=True).first()
    if job_model is None or not job_model.installed or not user.has_perm("extras.run_job"):
        return None
    return job_model


class CSVImportViewMixin:
    """Put before NautobotUIViewSet in a viewset's bases so its ``<model>/import/`` page uses :func:`import_csv`.

    It replaces the page's form handling (Nautobot's ``perform_bulk_create``) rather than the deprecated
    ``_process_bulk_create_form`` hook: the uploaded file is read as bytes here, so a file that is not UTF-8 is a form
    error instead of a 500 in Nautobot's file field. A file over BACKGROUND_ROWS rows is handed to the "Import
    contracts CSV" Job and the page redirects to its JobResult.
    """

    def perform_bulk_create(self, request):
        """Validate the form, then import the pasted text or uploaded file, all or nothing."""
        upload = request.FILES.get("csv_file")
        if upload is not None:
            self.bulk_create_active_tab = "csv-file"
        field_name = "csv_file" if upload is not None else "csv_data"
        # The file is left out of the form: Nautobot's CSVFileField decodes it and raises on a non-UTF-8 byte.
        form = self.get_form_class()(data=request.POST)
        if not form.is_valid():
            return self.form_invalid(form)
        data = upload.read() if upload is not None else form.cleaned_data["csv_data"] or ""
        model = self.queryset.model
        job_model = import_job_model(request.user) if count_rows(data) > BACKGROUND_ROWS else None
        try:
            if job_model is not None:
                return self._enqueue_import(request, job_model, model, decode(data))
            new_objects = import_csv(data, self.serializer_class, self.get_queryset(), request=request)
        except CSVImportError as error:
            for row_error in error.errors:
                form.add_error(field_name, str(row_error))
            return self.form_invalid(form)
        message = f"Imported {len(new_objects)} {model._meta.verbose_name_plural}"
        self.logger.info(message)
        messages.success(request, message)
        return Response({"table": self.get_table_class()(new_objects), "template": "import_success.html"})

    def _enqueue_import(self, request, job_model, model, text):
        from django.contrib.contenttypes.models import ContentType  # pylint: disable=import-outside-toplevel
        from nautobot.extras.models import JobResult  # pylint: disable=import-outside-toplevel

        job_result = JobResult.enqueue_job(
            job_model, request.user, content_type=ContentType.objects.get_for_model(model).pk, csv_data=text
        )
        messages.info(
            request,
            "A large file: importing it in the background; nothing is created unless every line is valid.",
        )
        return redirect(job_result.get_absolute_url())
