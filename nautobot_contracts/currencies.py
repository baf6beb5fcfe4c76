"""ISO 4217 currency codes, from the maintained `pycountry` data package."""

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import models
import pycountry


@lru_cache(maxsize=1)
def currency_codes():
    """Return the set of ISO 4217 alphabetic codes."""
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


@lru_cache(maxsize=1)
def currency_choices():
    """Return (code, "CODE — Name") choices sorted by code, for forms."""
    return tuple(sorted((c.alpha_3, f"{c.alpha_3} — {c.name}") for c in pycountry.currencies))


def normalize_currency(value):
    """Strip and upper-case a currency code; leave non-strings alone for validation to reject."""
    return value.strip().upper() if isinstance(value, str) else value


def validate_currency(value):
    """Raise ValidationError unless value is an ISO 4217 alphabetic code (upper-case)."""
    if value not in currency_codes():
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code (for example USD, EUR, GBP).",
            code="invalid_currency",
            params={"value": value},
        )


class CurrencyField(models.CharField):
    """A three-letter ISO 4217 code, stored upper-case whatever the input's case."""

    default_validators = [validate_currency]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("help_text", "ISO 4217 currency code, e.g. USD")
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        """Normalize on clean so forms, CSV and REST all store upper-case."""
        return normalize_currency(super().to_python(value))

    def pre_save(self, model_instance, add):
        """Normalize on save too, for code paths that skip full_clean()."""
        value = normalize_currency(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value
