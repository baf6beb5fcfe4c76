"""Field factories and bounds shared by the models: money precision, sign and range, and the date range."""

import datetime
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from nautobot_contracts.currencies import REFUSED_CURRENCY_CODES

MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2

# Every stored date lies in these years. Term arithmetic then cannot leave Python's date range (years 1..9999;
# PostgreSQL's is far wider): a notice deadline is at most NOTICE_DAYS_MAX (~10 years) before a date >= 1900, and a
# rolled term end is at most RENEWAL_TERM_MONTHS_MAX (50 years) after the later of the end date and the as-of date.
DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2999, 12, 31)
NOTICE_DAYS_MAX = 3650
RENEWAL_TERM_MONTHS_MIN = 1
RENEWAL_TERM_MONTHS_MAX = 600
# Entitlement and assignment quantities (seats, licences, ports...): positive, bounded so sums stay in a bigint.
QUANTITY_MIN = 1
QUANTITY_MAX = 1_000_000_000
# An assignment's share of its contract's cost is its allocation_weight over the sum of the weights in force.
ALLOCATION_WEIGHT_MAX_DIGITS = 12
ALLOCATION_WEIGHT_DECIMAL_PLACES = 4
ALLOCATION_WEIGHT_MIN = Decimal("0.0001")
ALLOCATION_WEIGHT_MAX = Decimal("1000000")


def date_validators():
    """Validators keeping a date inside DATE_MIN..DATE_MAX, with a message naming the range."""
    message = f"Enter a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."
    return [MinValueValidator(DATE_MIN, message=message), MaxValueValidator(DATE_MAX, message=message)]


def bounded_date_field(**kwargs):
    """A DateField limited to DATE_MIN..DATE_MAX (pair it with `date_range_constraint`)."""
    kwargs.setdefault("validators", date_validators())
    return models.DateField(**kwargs)


def range_constraint(model_name, field_name, low, high, nullable=False):
    """Database-level guard: `low <= field <= high` (or NULL when the field is nullable)."""
    condition = Q(**{f"{field_name}__gte": low, f"{field_name}__lte": high})
    if nullable:
        condition |= Q(**{f"{field_name}__isnull": True})
    return models.CheckConstraint(condition=condition, name=f"nautobot_contracts_{model_name}_{field_name}_range")


def date_range_constraint(model_name, field_name, nullable=False):
    """Database-level guard matching `date_validators`."""
    return range_constraint(model_name, field_name, DATE_MIN, DATE_MAX, nullable=nullable)


def normalize_money(value):
    """Negative zero ("-0", "-0.00") becomes zero; anything else is returned unchanged."""
    if isinstance(value, Decimal) and value.is_zero() and value.is_signed():
        return value.copy_abs()
    return value


class MoneyField(models.DecimalField):
    """A DecimalField that never keeps a negative zero, whichever surface (form, REST, CSV, code) set it."""

    def to_python(self, value):
        """Normalize on clean, so the validated value is what gets stored and shown."""
        return normalize_money(super().to_python(value))

    def pre_save(self, model_instance, add):
        """Normalize on save too, for code paths that skip full_clean() (REST saves a fresh instance)."""
        value = normalize_money(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value


def money_field(**kwargs):
    """A non-negative amount stored with two decimal places."""
    kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
    kwargs.setdefault("validators", [MinValueValidator(0)])
    return MoneyField(**kwargs)


def non_negative_constraint(model_name, field_name):
    """Database-level guard matching money_field's validator."""
    return models.CheckConstraint(
        condition=Q(**{f"{field_name}__gte": 0}), name=f"nautobot_contracts_{model_name}_{field_name}_non_negative"
    )


def currency_format_constraint(model_name):
    """Database-level guard: three upper-case letters and not a refused non-money code (the ISO list is in clean())."""
    return models.CheckConstraint(
        condition=Q(currency__regex=r"^[A-Z]{3}$") & ~Q(currency__in=sorted(REFUSED_CURRENCY_CODES)),
        name=f"nautobot_contracts_{model_name}_currency_format",
    )
