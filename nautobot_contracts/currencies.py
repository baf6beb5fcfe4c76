"""ISO 4217 currency codes, from the maintained `pycountry` data package."""

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import models
import pycountry

# ISO 4217 codes that are not money a contract can be priced or invoiced in. XDR (the IMF's Special Drawing Right)
# is kept: international carrier settlements and some telecom contracts are denominated in it, and the IMF publishes
# a daily rate for it, so it converts like any currency.
REFUSED_CURRENCY_CODES = {
    "XXX": "no currency involved",
    "XTS": "reserved for testing",
    "XAU": "gold (a precious metal, not money)",
    "XAG": "silver (a precious metal, not money)",
    "XPD": "palladium (a precious metal, not money)",
    "XPT": "platinum (a precious metal, not money)",
    "XBA": "a bond-market unit of account",
    "XBB": "a bond-market unit of account",
    "XBC": "a bond-market unit of account",
    "XBD": "a bond-market unit of account",
    "XAD": "an accounting unit of the Arab Monetary Fund, not a circulating currency",
    "XSU": "the ALBA settlement unit, not a circulating currency",
    "XUA": "an accounting unit of the African Development Bank, not a circulating currency",
}


@lru_cache(maxsize=1)
def currency_codes():
    """Return the set of ISO 4217 alphabetic codes a contract may use (the refused non-money codes left out)."""
    return frozenset(c.alpha_3 for c in pycountry.currencies if c.alpha_3 not in REFUSED_CURRENCY_CODES)


@lru_cache(maxsize=1)
def currency_choices():
    """Return (code, "CODE — Name") choices sorted by code, for forms."""
    return tuple(
        sorted(
            (c.alpha_3, f"{c.alpha_3} — {c.name}")
            for c in pycountry.currencies
            if c.alpha_3 not in REFUSED_CURRENCY_CODES
        )
    )


def normalize_currency(value):
    """Strip and upper-case a currency code; leave non-strings alone for validation to reject."""
    return value.strip().upper() if isinstance(value, str) else value


def validate_currency(value):
    """Raise ValidationError unless value is an ISO 4217 alphabetic code (upper-case) for money."""
    if value in REFUSED_CURRENCY_CODES:
        raise ValidationError(
            "%(value)s is not accepted: it is %(reason)s.",
            code="not_money",
            params={"value": value, "reason": REFUSED_CURRENCY_CODES[value]},
        )
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
