"""Budgets: an amount for one fiscal year and one currency, optionally scoped to a tenant and/or a cost center."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from nautobot_contracts.currencies import CurrencyField
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES
from nautobot_contracts.models.money import (
    currency_format_constraint,
    money_field,
    non_negative_constraint,
    range_constraint,
)
from nautobot_contracts.models.providers import UnicodeSafeNaturalSlugMixin

FISCAL_YEAR_MIN = 1900
FISCAL_YEAR_MAX = 2200


@extras_features(*PRIMARY_MODEL_FEATURES)
class Budget(UnicodeSafeNaturalSlugMixin, PrimaryModel):
    """What may be spent in one fiscal year and currency; actual, committed and remaining come from services.budgets."""

    name = models.CharField(max_length=CHARFIELD_MAX_LENGTH, unique=True)
    fiscal_year = models.PositiveSmallIntegerField(
        validators=[
            MinValueValidator(
                FISCAL_YEAR_MIN, message=f"Enter a fiscal year from {FISCAL_YEAR_MIN} to {FISCAL_YEAR_MAX}."
            ),
            MaxValueValidator(
                FISCAL_YEAR_MAX, message=f"Enter a fiscal year from {FISCAL_YEAR_MIN} to {FISCAL_YEAR_MAX}."
            ),
        ],
        help_text="The calendar year in which the fiscal year starts (setting fiscal_year_start_month)",
    )
    currency = CurrencyField()
    amount = money_field(help_text="What may be spent in the fiscal year, in the currency")
    tenant = models.ForeignKey(
        to="tenancy.Tenant",
        on_delete=models.PROTECT,
        related_name="contract_budgets",
        blank=True,
        null=True,
        help_text="Only the contracts of this tenant count (empty: every tenant)",
    )
    cost_center = models.CharField(
        max_length=CHARFIELD_MAX_LENGTH,
        blank=True,
        help_text="Only the contracts of this cost center count (empty: every cost center)",
    )
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)

    natural_key_field_names = ["name"]
    clone_fields = ["fiscal_year", "currency", "tenant", "cost_center"]

    class Meta:
        ordering = ["-fiscal_year", "currency", "name"]
        constraints = [
            # A budget without a tenant is one scope: NULL tenants must clash like equal ones.
            models.UniqueConstraint(
                fields=["fiscal_year", "currency", "tenant", "cost_center"],
                name="nautobot_contracts_budget_scope",
                nulls_distinct=False,
                violation_error_message="A budget for this fiscal year, currency, tenant and cost center exists.",
            ),
            non_negative_constraint("budget", "amount"),
            currency_format_constraint("budget"),
            range_constraint("budget", "fiscal_year", FISCAL_YEAR_MIN, FISCAL_YEAR_MAX),
        ]

    def __str__(self):
        return self.name
