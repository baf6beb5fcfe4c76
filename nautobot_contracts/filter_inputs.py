"""Filter values checked before they reach the database: the base class of every app filter set.

A value PostgreSQL would refuse (NUL characters, invalid regular expressions, a year outside 1-9999, an integer
beyond its column, a UTC offset beyond +-15:59) becomes a form error naming the parameter, which Nautobot's REST
filter backend answers with a 400 and its list views show as a message; boolean filters refuse non-boolean words.
"""

import datetime
from decimal import Decimal
import re

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DatabaseError, connection, models, transaction
import django_filters

# Bounds of the date-part transforms (Django builds a Python date from a year, PostgreSQL refuses a bigint overflow).
DATE_PART_BOUNDS = {
    "year": (1, 9999),
    "iso_year": (1, 9999),
    "quarter": (1, 4),
    "month": (1, 12),
    "week": (1, 53),
    "day": (1, 31),
    "week_day": (1, 7),
    "iso_week_day": (1, 7),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}
REGEX_LOOKUPS = ("regex", "iregex")
# PostgreSQL accepts UTC offsets up to 15:59:59 (its "time zone displacement out of range" error beyond).
MAX_UTC_OFFSET = datetime.timedelta(hours=15, minutes=59, seconds=59)
# A decimal beyond this many digits is no amount the app stores; PostgreSQL overflows far later, Python never.
MAX_DECIMAL_EXPONENT = 100
TRUE_WORDS = ("true", "t", "yes", "y", "on", "1")
FALSE_WORDS = ("false", "f", "no", "n", "off", "0")


class StrictBooleanField(forms.NullBooleanField):
    """A boolean filter value that refuses anything but a boolean word (Django's field reads "maybe" as "no filter")."""

    widget = forms.TextInput

    def to_python(self, value):
        """true/false (or yes/no, on/off, 1/0, t/f, y/n, any case); blank is no filter; anything else is an error."""
        if value in (None, "") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(f"{value!r} is not a boolean: use true or false.", code="invalid")

    def validate(self, value):
        """Any of True, False or None is valid."""


def database_regex_error(pattern):
    """Why the database refuses `pattern` as a regular expression, or None when it accepts it.

    PostgreSQL's regex dialect differs from Python's (no named groups, other escapes), so PostgreSQL is asked
    itself, in a savepoint so a refused pattern does not abort the request's transaction; Python's `re` stands in
    on other databases.
    """
    if connection.vendor != "postgresql":
        try:
            re.compile(pattern)
        except re.error as error:
            return str(error)
        return None
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DatabaseError as error:
        return str(getattr(getattr(error.__cause__, "diag", None), "message_primary", None) or error).strip()
    return None


def model_field_for(model, path):
    """The model field at the end of a `__`-separated path, or None when the path is not a plain field path."""
    field = None
    for part in path.split("__"):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model
    return field


def _flat(value):
    """The scalar values inside a (possibly multi-valued) cleaned filter value."""
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _flat(item)
    elif value is not None:
        yield value


def filter_value_problem(filter_, model, value):
    """Why the database would refuse `value` for `filter_`, or None. One rule per kind of value, any filter set."""
    lookup = str(getattr(filter_, "lookup_expr", "") or "")
    transform = lookup.split("__", 1)[0]
    field = model_field_for(model, str(filter_.field_name)) if getattr(filter_, "field_name", None) else None
    for item in _flat(value):
        if isinstance(item, str) and transform in REGEX_LOOKUPS:
            error = database_regex_error(item)
            if error:
                return f"Not a valid regular expression: {error}"
        if isinstance(item, (int, Decimal, float)) and not isinstance(item, bool):
            if isinstance(item, Decimal) and not item.is_finite():
                return "Enter a finite number."
            if transform in DATE_PART_BOUNDS:
                low, high = DATE_PART_BOUNDS[transform]
                if item != int(item) or not low <= item <= high:
                    return f"Enter a whole number from {low} to {high} for the {transform}."
            elif isinstance(field, models.IntegerField) and not isinstance(field, models.AutoField):
                low, high = connection.ops.integer_field_range(field.get_internal_type())
                if (low is not None and item < low) or (high is not None and item > high):
                    return f"Enter a number from {low} to {high}."
            elif isinstance(item, Decimal) and abs(item.adjusted()) > MAX_DECIMAL_EXPONENT:
                return "Number out of range."
        if isinstance(item, datetime.datetime) and item.tzinfo is not None:
            offset = item.utcoffset()
            if offset is not None and abs(offset) > MAX_UTC_OFFSET:
                return "The UTC offset must lie between -15:59 and +15:59."
            try:
                item.astimezone(datetime.timezone.utc)
            except OverflowError:
                return "Date and time out of range."
    return None


class ContractsFilterSetMixin:
    """Validates filter values before they reach the database, so a value it would refuse is a form error.

    Nautobot's REST filter backend answers a form error with a 400 naming the parameter, and its UI list views show
    it as a message; a value PostgreSQL refuses would otherwise be a 500 (NUL characters, invalid regular
    expressions, a year outside 1-9999, an integer beyond its column, a UTC offset beyond +-15:59). Boolean filters
    refuse non-boolean words instead of ignoring them. List it before NautobotFilterSet / BaseFilterSet.
    """

    def __init__(self, data=None, *args, **kwargs):
        """Set NUL-bearing parameters aside before any field cleans them (some clean with a database query)."""
        self._refused = {}
        if data is not None:
            data = data.copy()
            for name in list(data.keys()):
                values = data.getlist(name) if hasattr(data, "getlist") else data[name]
                values = values if isinstance(values, (list, tuple)) else [values]
                if any("\x00" in str(value) for value in values):
                    self._refused[name] = "Null characters are not allowed."
                    data.pop(name)
        super().__init__(data, *args, **kwargs)
        for filter_ in self.filters.values():
            if isinstance(filter_, django_filters.BooleanFilter) and filter_.field_class is forms.NullBooleanField:
                filter_.field_class = StrictBooleanField

    def get_form_class(self):
        """The filter form, whose clean() adds the refused values' errors under their parameter names."""
        form_class = super().get_form_class()
        filterset = self

        class ValidatingFilterForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                for name, message in filterset._refused.items():
                    if name in self.fields:
                        self.add_error(name, message)
                    else:  # Not a filter: STRICT_FILTERING reports it as unknown; keep the reason too.
                        self.add_error(None, f"{name}: {message}")
                model = filterset._meta.model
                for name, value in list(cleaned_data.items()):
                    if name in filterset.filters:
                        message = filter_value_problem(filterset.filters[name], model, value)
                        if message:
                            self.add_error(name, message)
                return self.cleaned_data

        ValidatingFilterForm.__name__ = form_class.__name__
        return ValidatingFilterForm
