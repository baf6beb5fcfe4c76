"""Exchange rates into the reporting currency."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from nautobot.apps.models import PrimaryModel, extras_features

from nautobot_contracts.currencies import CurrencyField
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES
from nautobot_contracts.models.money import bounded_date_field, currency_format_constraint, date_range_constraint


@extras_features(*PRIMARY_MODEL_FEATURES)
class ExchangeRate(PrimaryModel):
    """How many units of the reporting currency one unit of `currency` is worth, from `effective_date` on."""

    currency = CurrencyField()
    rate = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text="Units of the reporting currency for one unit of this currency",
    )
    effective_date = bounded_date_field()
    description = models.CharField(max_length=255, blank=True)

    natural_key_field_names = ["currency", "effective_date"]

    class Meta:
        ordering = ["currency", "-effective_date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "effective_date"], name="nautobot_contracts_exchangerate_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="nautobot_contracts_exchangerate_positive"),
            currency_format_constraint("exchangerate"),
            date_range_constraint("exchangerate", "effective_date"),
        ]

    def __str__(self):
        return f"{self.currency} {self.rate} from {self.effective_date}"
