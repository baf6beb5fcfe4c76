"""The importer: every row validated and created in one transaction, all or nothing, every bad line reported."""

import copy
import json

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from nautobot.apps.api import ValidatedModelSerializer
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.fields import CreateOnlyDefault
from rest_framework.validators import UniqueValidator

from nautobot_contracts.compat import CustomFieldDefaultValues, log_changes_in_bulk, metadata_lookups_read_once
from nautobot_contracts.csv_import.reading import CSVImportError, CSVRowError, decode
from nautobot_contracts.csv_import.rows import flatten_errors, integrity_message, parse_rows
from nautobot_contracts.gc_freeze import frozen_heap

# How often (in rows) a background import logs its progress.
PROGRESS_EVERY = 500


class _DatabaseChecksAtInsert(ValidatedModelSerializer):
    """Placed just before Nautobot's ValidatedModelSerializer: its full_clean() skips the checks the database makes.

    Per row, full_clean() and DRF's unique validators spend a query (and a savepoint) on every unique and check
    constraint and every foreign key just looked up; in an import the INSERT makes the same checks, and import_csv
    reports its refusal on the line.
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
            validated = super().validate(attrs)
        finally:
            self.instance = None
        # The cleaned instance (clean() may have filled defaults, e.g. an invoice's currency) is what gets inserted.
        self.cleaned_instance = instance
        return validated

    def get_validators(self):
        """No unique-together validators: each is a query per row, and the INSERT makes the same check."""
        return []


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


# Rows inserted by one bulk_create (and replayed row by row to find the line when the database refuses one).
CHUNK_ROWS = 500


def prepare_for_bulk(serializer):
    """Take the per-row queries out of `serializer`'s validation that one import would repeat for every row.

    Unique validators of single fields are dropped (the INSERT checks them); the custom-field defaults (a query per
    row in Nautobot's CustomFieldDefaultValues) are read once. Both are for this serializer instance only.
    """
    for field in serializer.fields.values():
        field.validators = [validator for validator in field.validators if not isinstance(validator, UniqueValidator)]
        default = getattr(field, "default", None)
        # Nautobot wraps it in DRF's CreateOnlyDefault (custom_fields=CreateOnlyDefault(CustomFieldDefaultValues())).
        holder = default if isinstance(default, CreateOnlyDefault) else field
        if isinstance(getattr(holder, "default", None), CustomFieldDefaultValues):
            holder.default = _memoized_default(holder.default)


def _memoized_default(default):
    cache = []

    def memoized(serializer_field):
        if not cache:
            cache.append(default(serializer_field))
        return copy.deepcopy(cache[0])

    memoized.requires_context = True
    return memoized


def _row_errors(line, error):
    """CSVRowErrors of one line from a DRF or Django validation error."""
    if isinstance(error, DRFValidationError):
        detail = error.detail
    else:
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
    return [CSVRowError(line, field, message) for field, message in flatten_errors(detail)]


def _validate(serializer, rows, progress=None):
    """[(line, attrs, cleaned instance)] and [CSVRowError] for every row: Python only, no query per row."""
    valid, errors = [], []
    for done, (line, row) in enumerate(rows):
        if progress and done and done % PROGRESS_EVERY == 0:
            progress(done, len(rows))
        try:
            attrs = serializer.run_validation(row)
        except (DRFValidationError, ValidationError) as error:
            errors += _row_errors(line, error)
            continue
        valid.append((line, attrs, serializer.cleaned_instance))
    return valid, errors


def _needs_save(attrs, model):
    """A row with tags, relationships or other many-to-many values is created through the serializer, not in bulk."""
    many_to_many = {field.name for field in model._meta.many_to_many}
    return any(attrs.get(name) for name in ("tags", "relationships", *many_to_many))


def _insert(serializer, chunk, model):
    """Create the chunk's objects: one bulk_create, or the serializer's create() for rows that need it."""
    if any(_needs_save(attrs, model) for _, attrs, _ in chunk):
        return [serializer.create(attrs) for _, attrs, _ in chunk], False
    return model.objects.bulk_create([instance for _, _, instance in chunk]), True


def _replay(serializer, chunk, model):
    """After a refused chunk: create row by row, each in a savepoint, to name the refused lines (all rolled back)."""
    errors = []
    for line, attrs, instance in chunk:
        try:
            with transaction.atomic():
                if _needs_save(attrs, model):
                    serializer.create(attrs)
                else:
                    instance.save(force_insert=True)
        except IntegrityError as error:
            errors.append(CSVRowError(line, "", integrity_message(error, model)))
        except (DRFValidationError, ValidationError) as error:
            errors += _row_errors(line, error)
    return errors


def log_bulk_created(objects):
    """Change-log objects made by bulk_create (which sends no signals), and enqueue their webhooks.

    Through compat.log_changes_in_bulk: the records of a whole file are serialized in one pass (core's
    to_objectchange() builds a serializer per object, which dominated a large import). Outside a change context
    (a shell, a test) nothing is logged, as for save().
    """
    if not objects:
        return
    model = type(objects[0])
    related = [field.name for field in model._meta.concrete_fields if field.many_to_one]
    log_changes_in_bulk(created=objects, prefetch=related)


def import_csv(data, serializer_class, queryset, request=None, progress=None, user=None):
    """Create one object per data row of `data` (text or bytes) through `serializer_class`, all or nothing.

    Every row is validated first (the serializer's and the model's rules, with each distinct related object looked
    up once per file, restricted to what `user` -- default: the request's -- may view for the app's own models);
    then the objects are inserted with one bulk_create per CHUNK_ROWS rows, change-logged in bulk. The database's
    own checks (unique keys, check constraints) run at INSERT; a refused chunk is replayed row by row to name the
    line. `queryset` is the model's queryset restricted to what the user may add; a created object outside it is
    refused, as in Nautobot's own import. `progress(done, total)` is called every PROGRESS_EVERY rows.
    Returns the created objects, or raises CSVImportError listing every bad line; nothing is kept on error.
    The whole import runs in gc_freeze.frozen_heap(): a file's rows would otherwise trigger full collections over
    every object of the process.
    """
    with frozen_heap():
        return _import(data, serializer_class, queryset, request=request, progress=progress, user=user)


def _import(data, serializer_class, queryset, request=None, progress=None, user=None):
    rows = parse_rows(decode(data), serializer_class, request)
    model = serializer_class.Meta.model
    # One serializer for every row, as DRF's ListSerializer does with its child: fields are built once.
    serializer = import_serializer_class(serializer_class)(context={"request": request})
    cache_related_lookups(serializer, user=user or getattr(request, "user", None))
    prepare_for_bulk(serializer)
    with metadata_lookups_read_once():
        valid, errors = _validate(serializer, rows, progress)
    # Required relationships, as Nautobot's serializer create() checks them, once for the file (rows carry none).
    relationship_errors = model.required_related_objects_errors(output_for="api", initial_data={})
    if relationship_errors:
        errors += [
            CSVRowError(line, "relationships", message)
            for line, _, _ in valid
            for _, message in flatten_errors(relationship_errors)
        ]
        valid = []
    created, bulk_created = [], []
    with transaction.atomic():
        for start in range(0, len(valid), CHUNK_ROWS):
            chunk = valid[start : start + CHUNK_ROWS]
            # Valid rows are inserted even when other lines failed validation, so that the database's refusals
            # (a duplicate of an earlier line) are reported too; all of it is rolled back then.
            try:
                with transaction.atomic():
                    objects, in_bulk = _insert(serializer, chunk, model)
            except (IntegrityError, DRFValidationError, ValidationError) as error:
                # A refused chunk is replayed row by row, only to name its refused lines.
                errors += _replay(serializer, chunk, model) or [
                    CSVRowError(chunk[0][0], "", f"Refused by the database ({error}); nothing was imported.")
                ]
                continue
            created += [(line, obj) for (line, _, _), obj in zip(chunk, objects, strict=True)]
            if in_bulk:
                bulk_created += objects
        if not errors:
            # One query for the "add" permission constraints of every created object.
            allowed = set(queryset.filter(pk__in=[obj.pk for _, obj in created]).values_list("pk", flat=True))
            errors = [
                CSVRowError(line, "", "You do not have permission to create an object like this.")
                for line, obj in created
                if obj.pk not in allowed
            ]
        if errors:
            # Raised inside the atomic block, so every row created so far is rolled back.
            raise CSVImportError(sorted(errors, key=lambda error: error.line))
        log_bulk_created(bulk_created)
    if progress:
        progress(len(created), len(rows))
    return [obj for _, obj in created]
