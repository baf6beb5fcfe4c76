"""Money over many contracts: monthly burn, renewal forecast and top vendors per currency, as database aggregates.

Figures are unrounded Decimals; callers round with `round_money`/`money_str` only where they show or
store them. Currencies are never summed together here: `services.fx.convert` does that with exchange rates.
"""

from dataclasses import dataclass
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, Q, Sum, Value
from django.db.models.functions import Coalesce

from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.services.terms import (
    ZERO,
    active_contracts,
    current_term_end_expression,
    monthly_cost_expression,
    renewal_term_months_expression,
)

CENTS = Decimal("0.01")
MONTHS_PER_YEAR = 12
RENEWAL_FORECAST_DAYS = 90  # `renewal_90d` of a cost snapshot
TOP_VENDORS = 10
_SUM_FIELD = DecimalField(max_digits=30, decimal_places=10)


def round_money(amount):
    """Round half-up to cents: only where a figure is shown or stored."""
    return Decimal(amount).quantize(CENTS, rounding=ROUND_HALF_UP)


def money_str(amount):
    """A money figure as a string with exactly two decimals, e.g. "1234.50"."""
    return str(round_money(amount))


def annualized(monthly_burn):
    """A monthly figure times twelve."""
    return Decimal(monthly_burn) * MONTHS_PER_YEAR


def renewal_value_expression(prefix=""):
    """monthly cost x renewal term months: what one more term of a contract is worth."""
    return ExpressionWrapper(
        monthly_cost_expression(prefix) * renewal_term_months_expression(prefix), output_field=_SUM_FIELD
    )


@dataclass(frozen=True)
class CurrencyTotals:
    """Spend in one currency on one date."""

    currency: str
    monthly_burn: Decimal
    renewal_forecast: Decimal
    active_contracts: int

    @property
    def annualized(self):
        """Monthly burn x 12."""
        return annualized(self.monthly_burn)


def currency_totals(as_of, forecast_days=RENEWAL_FORECAST_DAYS, user=None, queryset=None):
    """{currency: CurrencyTotals} over the contracts active on `as_of` that `user` may view, in one query.

    monthly_burn is the sum of monthly costs; renewal_forecast sums monthly cost x renewal term over active
    recurring contracts whose current term end lies in [as_of, as_of + forecast_days].
    """
    if forecast_days < 0:
        raise ValueError("forecast_days must be zero or more.")
    horizon = as_of + datetime.timedelta(days=forecast_days)
    renews_in_window = Q(term_end__gte=as_of, term_end__lte=horizon) & ~Q(
        billing_period=BillingPeriodChoices.PERIOD_ONE_TIME
    )
    rows = (
        active_contracts(as_of, user=user, queryset=queryset)
        .alias(term_end=current_term_end_expression(as_of))
        .order_by()
        .values("currency")
        .annotate(
            monthly_burn=Coalesce(Sum(monthly_cost_expression()), Value(ZERO), output_field=_SUM_FIELD),
            renewal_forecast=Coalesce(
                Sum(renewal_value_expression(), filter=renews_in_window), Value(ZERO), output_field=_SUM_FIELD
            ),
            active_contracts=Count("pk"),
        )
    )
    return {
        row["currency"]: CurrencyTotals(
            currency=row["currency"],
            monthly_burn=row["monthly_burn"],
            renewal_forecast=row["renewal_forecast"],
            active_contracts=row["active_contracts"],
        )
        for row in rows
    }


def monthly_burn_by_currency(as_of, user=None, queryset=None):
    """{currency: monthly burn} on `as_of`."""
    return {code: totals.monthly_burn for code, totals in currency_totals(as_of, 0, user, queryset).items()}


def renewal_forecast_by_currency(as_of, days, user=None, queryset=None):
    """{currency: renewal forecast over `days` days} on `as_of`."""
    return {code: totals.renewal_forecast for code, totals in currency_totals(as_of, days, user, queryset).items()}


def top_vendors(as_of, limit=TOP_VENDORS, user=None, queryset=None):
    """The `limit` providers with the highest monthly burn in each currency, in one query.

    Returns dicts {"provider_id", "provider", "currency", "monthly_burn"} ordered by currency, then burn descending.
    """
    rows = (
        active_contracts(as_of, user=user, queryset=queryset)
        .order_by()
        .values("currency", "provider_id", "provider__name")
        .annotate(monthly_burn=Coalesce(Sum(monthly_cost_expression()), Value(ZERO), output_field=_SUM_FIELD))
        .order_by("currency", "-monthly_burn", "provider__name")
    )
    result, taken = [], {}
    for row in rows:
        currency = row["currency"]
        if taken.get(currency, 0) >= limit:
            continue
        taken[currency] = taken.get(currency, 0) + 1
        result.append(
            {
                "provider_id": row["provider_id"],
                "provider": row["provider__name"],
                "currency": currency,
                "monthly_burn": row["monthly_burn"],
            }
        )
    return result
