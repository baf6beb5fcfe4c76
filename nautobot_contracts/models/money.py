"""Field factories for money, so every amount has the same precision and the same non-negative rule."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def money_field(**kwargs):
    """A non-negative amount stored with two decimal places."""
    kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
    kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
    kwargs.setdefault("validators", [MinValueValidator(0)])
    return models.DecimalField(**kwargs)


def non_negative_constraint(model_name, field_name):
    """Database-level guard matching money_field's validator."""
    return models.CheckConstraint(
        condition=Q(**{f"{field_name}__gte": 0}), name=f"nautobot_contracts_{model_name}_{field_name}_non_negative"
    )


def currency_format_constraint(model_name):
    """Database-level guard: three upper-case letters (the ISO list itself is checked in clean())."""
    return models.CheckConstraint(
        condition=Q(currency__regex=r"^[A-Z]{3}$"), name=f"nautobot_contracts_{model_name}_currency_format"
    )
