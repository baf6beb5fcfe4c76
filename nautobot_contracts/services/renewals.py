"""The renewal check: active contracts ranked by days to their notice deadline (docs/user/app-overview.md#renewals)."""

from dataclasses import dataclass
import datetime
from decimal import Decimal

from nautobot_contracts.app_settings import renewal_thresholds
from nautobot_contracts.services.terms import (
    TIER_MISSED,
    TIERS,
    active_contracts,
    current_term_end_expression,
    monthly_cost,
    notice_deadline_expression,
    renewal_term_months,
    renewal_tier_expression,
)

__all__ = ["RenewalItem", "renewal_thresholds", "tier_counts", "upcoming_renewals"]


@dataclass(frozen=True)
class RenewalItem:
    """One contract in the renewal check, with the figures the tier was decided on."""

    contract: object
    tier: str
    term_end: datetime.date
    notice_deadline: datetime.date
    days_to_deadline: int
    renewal_value: Decimal  # monthly cost x renewal term months, unrounded


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
    urgent within twice `urgent_days`). One query: term end, notice deadline and tier are the database twins of
    `terms.current_term_end`, `notice_deadline` and `renewal_tier`, annotated and filtered in SQL.
    `renewal_thresholds` (re-exported from app_settings) reads the thresholds.
    """
    window_days, urgent_days, soon_days = renewal_thresholds(window_days, urgent_days, soon_days)
    contracts = (
        active_contracts(as_of, user=user, queryset=queryset)
        .annotate(
            term_end=current_term_end_expression(as_of),
            deadline=notice_deadline_expression(as_of),
            tier=renewal_tier_expression(as_of, urgent_days=urgent_days, soon_days=soon_days, window_days=window_days),
        )
        .filter(tier__isnull=False)
        .select_related("provider", "tenant", "status")
    )
    if not include_missed:
        contracts = contracts.exclude(tier=TIER_MISSED)
    # No providers selected (None or empty) means all providers.
    provider_ids = [getattr(provider, "pk", provider) for provider in providers or ()]
    if provider_ids:
        contracts = contracts.filter(provider_id__in=provider_ids)
    if tenant is not None:
        contracts = contracts.filter(tenant=tenant)

    items = [
        RenewalItem(
            contract=contract,
            tier=contract.tier,
            term_end=contract.term_end,
            notice_deadline=contract.deadline,
            days_to_deadline=(contract.deadline - as_of).days,
            renewal_value=monthly_cost(contract) * renewal_term_months(contract),
        )
        for contract in contracts
    ]
    items.sort(key=lambda item: (item.days_to_deadline, item.contract.name, str(item.contract.pk)))
    return items


def tier_counts(items):
    """{tier: number of items} with every tier present."""
    counts = dict.fromkeys(TIERS, 0)
    for item in items:
        counts[item.tier] += 1
    return counts
