"""The renewal check: active contracts ranked by days to their notice deadline (DOMAIN.md "Renewals")."""

from dataclasses import dataclass
import datetime
from decimal import Decimal

from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.services.terms import (
    TIER_MISSED,
    TIERS,
    active_contracts,
    current_term_end_expression,
    monthly_cost,
    notice_deadline_expression,
    renewal_term_months,
    renewal_tier,
)


@dataclass(frozen=True)
class RenewalItem:
    """One contract in the renewal check, with the figures the tier was decided on."""

    contract: object
    tier: str
    term_end: datetime.date
    notice_deadline: datetime.date
    days_to_deadline: int
    renewal_value: Decimal  # monthly cost x renewal term months, unrounded


def renewal_thresholds(window_days=None, urgent_days=None, soon_days=None):
    """(window, urgent, soon) in days: explicit values, else the app's settings. Negative values are refused."""
    window_days = get_setting("renewal_window_days") if window_days is None else window_days
    urgent_days = get_setting("renewal_urgent_days") if urgent_days is None else urgent_days
    soon_days = get_setting("renewal_soon_days") if soon_days is None else soon_days
    for label, value in (("window_days", window_days), ("urgent_days", urgent_days), ("soon_days", soon_days)):
        if value < 0:
            raise ValueError(f"{label} must be zero or more, not {value}.")
    return window_days, urgent_days, soon_days


def upcoming_renewals(
    as_of,
    window_days=None,
    include_missed=True,
    providers=None,
    tenant=None,
    user=None,
    queryset=None,
    urgent_days=None,
    soon_days=None,
):
    """Active contracts that are missed, urgent, soon or upcoming on `as_of`, soonest deadline first.

    The window bounds the *upcoming* tier; urgent and soon keep their own thresholds (an auto-renewing contract is
    urgent within twice `urgent_days`), as `terms.renewal_tier` decides. One query: the notice deadline is filtered
    in the database, then each loaded contract is ranked by `renewal_tier`.
    """
    window_days, urgent_days, soon_days = renewal_thresholds(window_days, urgent_days, soon_days)
    horizon = as_of + datetime.timedelta(days=max(window_days, soon_days, 2 * urgent_days))
    contracts = (
        active_contracts(as_of, user=user, queryset=queryset)
        .annotate(term_end=current_term_end_expression(as_of), deadline=notice_deadline_expression(as_of))
        .filter(deadline__lte=horizon)
        .select_related("provider", "tenant", "status")
    )
    if not include_missed:
        contracts = contracts.filter(deadline__gte=as_of)
    # No providers selected (None or empty) means all providers.
    provider_ids = [getattr(provider, "pk", provider) for provider in providers or ()]
    if provider_ids:
        contracts = contracts.filter(provider_id__in=provider_ids)
    if tenant is not None:
        contracts = contracts.filter(tenant=tenant)

    items = []
    for contract in contracts:
        tier = renewal_tier(contract, as_of, urgent_days=urgent_days, soon_days=soon_days, window_days=window_days)
        if tier is None or (tier == TIER_MISSED and not include_missed):
            continue
        # term_end and deadline come from the database twins of terms.current_term_end / notice_deadline.
        items.append(
            RenewalItem(
                contract=contract,
                tier=tier,
                term_end=contract.term_end,
                notice_deadline=contract.deadline,
                days_to_deadline=(contract.deadline - as_of).days,
                renewal_value=monthly_cost(contract) * renewal_term_months(contract),
            )
        )
    items.sort(key=lambda item: (item.days_to_deadline, item.contract.name, str(item.contract.pk)))
    return items


def tier_counts(items):
    """{tier: number of items} with every tier present."""
    counts = dict.fromkeys(TIERS, 0)
    for item in items:
        counts[item.tier] += 1
    return counts
