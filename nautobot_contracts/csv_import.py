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
* one bad row and nothing is created: the rows that were fine are rolled back too.

The UI's form view uses it through :class:`CSVImportViewMixin`; :func:`import_csv` serves any other caller.
"""

import csv
from dataclasses import dataclass
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from nautobot.core.api.parsers import NautobotCSVParser
from nautobot.core.constants import CSV_NO_OBJECT
from rest_framework.exceptions import ParseError


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


def read_rows(text):
    """Yield (line number, {column: value} or an error message) per data row; the header is line 1.

    Line numbers are physical lines: a quoted cell spanning lines counts them all, blank lines are skipped but counted.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [column.strip() for column in next(reader, [])]
        start = reader.line_num + 1
        for values in reader:
            if len(values) > len(header):
                yield start, f"{len(values)} values but only {len(header)} column headers."
            elif values:
                yield start, dict(zip(header, values + [""] * (len(header) - len(values)), strict=True))
            start = reader.line_num + 1
    except csv.Error as error:
        yield reader.line_num, f"Not valid CSV: {error}."


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


def _integrity_message(error):
    detail = str(error).strip().splitlines()
    reason = detail[-1] if len(detail) > 1 else (detail[0] if detail else "database constraint")
    return f"Conflicts with an existing object or an earlier line of this file ({reason.strip()})."


def import_csv(text, serializer_class, queryset, request=None):
    """Create one object per data row of `text` through `serializer_class`, all or nothing.

    `queryset` is the model's queryset restricted to what the user may add; a created object outside it is refused,
    as in Nautobot's own import. Returns the created objects, or raises CSVImportError listing every bad line.
    """
    parser = NautobotCSVParser()
    context = {"request": request}
    reference = serializer_class(context={**context, "depth": 0})
    errors = []
    created = []
    with transaction.atomic():
        rows = list(read_rows(text))
        if not rows:
            errors.append(CSVRowError(1, "", "No data rows: give a header line, then one line per object."))
        for counter, (line, row) in enumerate(rows, start=1):
            if isinstance(row, str):
                errors.append(CSVRowError(line, "", row))
                continue
            try:
                data = parser.row_elements_to_data(counter, blank_relations_to_none(row), serializer=reference)
            except ParseError as error:
                errors.append(CSVRowError(line, "", str(error.detail).removeprefix(f"Row {counter}: ")))
                continue
            serializer = serializer_class(data=data, context=context)
            if not serializer.is_valid():
                errors.extend(CSVRowError(line, field, message) for field, message in _flatten(serializer.errors))
                continue
            try:
                with transaction.atomic():
                    obj = serializer.save()
                    if not queryset.filter(pk=obj.pk).exists():
                        raise _NotPermitted
            except _NotPermitted:
                errors.append(CSVRowError(line, "", "You do not have permission to create an object like this."))
            except IntegrityError as error:
                errors.append(CSVRowError(line, "", _integrity_message(error)))
            except ValidationError as error:
                detail = error.message_dict if hasattr(error, "error_dict") else error.messages
                errors.extend(CSVRowError(line, field, message) for field, message in _flatten(detail))
            else:
                created.append(obj)
        if errors:
            # Raised inside the atomic block, so every row created so far is rolled back.
            raise CSVImportError(errors)
    return created


class _NotPermitted(Exception):
    """The saved object is outside the user's "add" permission constraints."""


def process_bulk_create_form(view, form):
    """Body of a NautobotUIViewSet's ``_process_bulk_create_form``: import the form's CSV with :func:`import_csv`.

    On failure each error is added to the form and ValidationError is raised, which the view turns into the form
    page showing them (nothing imported). On success returns the table of imported objects, as Nautobot does.
    """
    request = view.request
    field_name = "csv_file" if request.FILES else "csv_data"
    if request.FILES:
        view.bulk_create_active_tab = "csv-file"
    try:
        new_objects = import_csv(
            form.cleaned_data[field_name] or "", view.serializer_class, view.get_queryset(), request=request
        )
    except CSVImportError as error:
        for row_error in error.errors:
            form.add_error(field_name, str(row_error))
        raise ValidationError("") from error
    table = view.get_table_class()(new_objects)
    message = f"Imported {len(new_objects)} {view.queryset.model._meta.verbose_name_plural}"
    view.logger.info(message)
    messages.success(request, message)
    return table


class CSVImportViewMixin:
    """Put before NautobotUIViewSet in a viewset's bases so its ``<model>/import/`` page uses :func:`import_csv`."""

    def _process_bulk_create_form(self, form):
        return process_bulk_create_form(self, form)
