"""The importer: every row validated and created in one transaction, all or nothing, every bad line reported."""

import json

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from nautobot.apps.api import ValidatedModelSerializer
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import ValidationError as DRFValidationError

from nautobot_contracts.csv_import.reading import CSVImportError, CSVRowError, decode
from nautobot_contracts.csv_import.rows import flatten_errors, integrity_message, parse_rows

# How often (in rows) a background import logs its progress.
PROGRESS_EVERY = 500


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
            errors.extend(CSVRowError(line, field, message) for field, message in flatten_errors(error.detail))
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
            errors.append(CSVRowError(line, "", integrity_message(error, model)))
        except DRFValidationError as error:
            errors.extend(CSVRowError(line, field, message) for field, message in flatten_errors(error.detail))
        except ValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            errors.extend(CSVRowError(line, field, message) for field, message in flatten_errors(detail))
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
