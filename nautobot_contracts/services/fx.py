"""Exchange rates: the latest rate effective on a date, and conversion of per-currency totals into one currency."""

from dataclasses import dataclass, field
from decimal import Decimal

from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.terms import ZERO

ONE = Decimal("1")


def reporting_currency():
    """The configured reporting currency (upper-case ISO code)."""
    return str(get_setting("reporting_currency")).upper()


def rates_on(as_of, currencies=None, user=None):
    """{currency: rate} using the latest rate effective on or before `as_of`, in one query.

    The reporting currency always converts at 1; a currency with no rate on or before `as_of` is absent.
    Pass `currencies` to fetch only those.
    """
    from nautobot_contracts.models import ExchangeRate  # pylint: disable=import-outside-toplevel

    reporting = reporting_currency()
    rates = {reporting: ONE}
    queryset = restrict(ExchangeRate.objects.all(), user).filter(effective_date__lte=as_of).exclude(currency=reporting)
    if currencies is not None:
        wanted = sorted(set(currencies) - {reporting})
        if not wanted:
            return rates
        queryset = queryset.filter(currency__in=wanted)
    # DISTINCT ON (currency) with the newest effective date first: one row per currency.
    latest = queryset.order_by("currency", "-effective_date").distinct("currency").values_list("currency", "rate")
    rates.update(latest)
    return rates


@dataclass
class Conversion:
    """Per-currency amounts converted into the reporting currency (unrounded)."""

    currency: str
    total: Decimal = ZERO
    rates: dict = field(default_factory=dict)
    unconverted: list = field(default_factory=list)
    converted: dict = field(default_factory=dict)  # {currency: amount in the reporting currency}


def convert(amounts, as_of, user=None, rates=None):
    """Sum {currency: amount} into the reporting currency with the rates effective on `as_of`.

    A currency without a rate is listed in `unconverted` and left out of the total: never counted at 1:1.
    Pass `rates` (from `rates_on`) to convert several sets of amounts with one query.
    """
    if rates is None:
        rates = rates_on(as_of, currencies=amounts.keys(), user=user)
    conversion = Conversion(currency=reporting_currency())
    for currency in sorted(amounts):
        rate = rates.get(currency)
        if rate is None:
            conversion.unconverted.append(currency)
            continue
        conversion.rates[currency] = rate
        conversion.converted[currency] = Decimal(amounts[currency]) * rate
        conversion.total += conversion.converted[currency]
    return conversion
