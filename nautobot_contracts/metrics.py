"""Prometheus gauges for Nautobot's /metrics endpoint (NautobotContractsConfig.metrics points at `metrics` below).

Each generator yields gauge families for today (`clock.today()`), with every figure from the service layer. The
figures are the whole installation's, unless the `metrics_user` setting names a user: then each is restricted to
what that user may view (the scrape has no user of its own). Open alerts per severity are
`nautobot_contracts_open_alerts{severity}`; the monthly cost allocated per tenant (services.allocation) is
`nautobot_contracts_tenant_monthly_cost{tenant, tenant_group, currency}`.
"""

import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from prometheus_client.core import GaugeMetricFamily

from nautobot_contracts import clock
from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.services import allocation
from nautobot_contracts.services.alerts import open_alert_counts
from nautobot_contracts.services.calendar import TIER_NONE
from nautobot_contracts.services.coverage import uncovered_devices
from nautobot_contracts.services.money import RENEWAL_FORECAST_DAYS, currency_totals, round_money
from nautobot_contracts.services.renewals import tier_counts, upcoming_renewals
from nautobot_contracts.services.terms import TIERS, active_contracts

logger = logging.getLogger(__name__)

PREFIX = "nautobot_contracts"
# Counting uncovered devices is the expensive figure (recursive location and tenant-group trees over every device);
# Prometheus scrapes every 15-60 s, so the count is kept this long in Django's cache.
UNCOVERED_CACHE_SECONDS = 300


class _NoSuchUser(Exception):
    """The `metrics_user` setting names a user that does not exist (or is inactive)."""


def metrics_user():
    """The user whose view the metrics show, None for the whole installation; _NoSuchUser when misconfigured."""
    username = get_setting("metrics_user")
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise _NoSuchUser(username)
    return user


def _scoped(build):
    """Run `build(user)`; a misconfigured `metrics_user` shows nothing rather than everything."""
    try:
        user = metrics_user()
    except _NoSuchUser as error:
        logger.warning("metrics_user %r does not exist or is inactive: the contracts metrics are empty.", str(error))
        return False, None
    return True, build(user)


def metric_money():
    """nautobot_contracts_monthly_burn{currency} and ..._renewal_forecast_90d{currency}, from one query."""
    burn = GaugeMetricFamily(
        f"{PREFIX}_monthly_burn",
        "Monthly cost of the contracts active today, per currency (never summed across currencies).",
        labels=["currency"],
    )
    forecast = GaugeMetricFamily(
        f"{PREFIX}_renewal_forecast_{RENEWAL_FORECAST_DAYS}d",
        f"Value of the renewals whose current term ends in the next {RENEWAL_FORECAST_DAYS} days, per currency.",
        labels=["currency"],
    )
    ok, totals = _scoped(lambda user: currency_totals(clock.today(), RENEWAL_FORECAST_DAYS, user=user))
    for currency, figures in sorted((totals or {}).items()) if ok else ():
        # Rounded to cents: this is where the figure is shown.
        burn.add_metric([currency], float(round_money(figures.monthly_burn)))
        forecast.add_metric([currency], float(round_money(figures.renewal_forecast)))
    yield burn
    yield forecast


def metric_contracts_by_tier():
    """nautobot_contracts_contracts{tier}: active contracts per renewal tier today; "none" for the rest (2 queries)."""
    gauge = GaugeMetricFamily(
        f"{PREFIX}_contracts",
        "Active contracts per renewal tier (missed, urgent, soon, upcoming, none).",
        labels=["tier"],
    )

    def build(user):
        as_of = clock.today()
        counts = tier_counts(upcoming_renewals(as_of, user=user))
        counts[TIER_NONE] = active_contracts(as_of, user=user).count() - sum(counts.values())
        return counts

    ok, counts = _scoped(build)
    for tier in (*TIERS, TIER_NONE):
        gauge.add_metric([tier], counts[tier] if ok else 0)
    yield gauge


def metric_uncovered_devices():
    """nautobot_contracts_uncovered_devices: devices without coverage today, cached for UNCOVERED_CACHE_SECONDS."""
    gauge = GaugeMetricFamily(f"{PREFIX}_uncovered_devices", "Devices without support coverage today.")

    def build(user):
        as_of = clock.today()
        key = f"{PREFIX}:metrics:uncovered_devices:{as_of.isoformat()}:{getattr(user, 'pk', 'all')}"
        count = cache.get(key)
        if count is None:
            count = uncovered_devices(as_of, user=user).count()
            cache.set(key, count, UNCOVERED_CACHE_SECONDS)
        return count

    ok, count = _scoped(build)
    if ok:
        gauge.add_metric([], count)
    yield gauge


def metric_open_alerts():
    """nautobot_contracts_open_alerts{severity}: open alerts per severity (snoozed included), one query."""
    gauge = GaugeMetricFamily(
        f"{PREFIX}_open_alerts",
        "Open contract alerts per severity (upcoming, soon, urgent, missed), snoozed ones included.",
        labels=["severity"],
    )
    ok, counts = _scoped(lambda user: open_alert_counts(user=user))
    for severity, count in (counts or {}).items() if ok else ():
        gauge.add_metric([severity], count)
    yield gauge


def metric_tenant_monthly_cost():
    """nautobot_contracts_tenant_monthly_cost{tenant, tenant_group, currency}: the monthly cost allocated today.

    One series per tenant and currency; a tenant group's own share has tenant="" and the group's name; shares of no
    tenant have both empty, those of tenants the metrics user may not view tenant="(hidden)". Five queries.
    """
    gauge = GaugeMetricFamily(
        f"{PREFIX}_tenant_monthly_cost",
        "Monthly cost allocated to each tenant today (contract cost split over its assignments), per currency.",
        labels=["tenant", "tenant_group", "currency"],
    )
    ok, result = _scoped(lambda user: allocation.allocation(clock.today(), allocation.GROUP_BY_TENANT, user=user))
    for row in result.rows if ok else ():
        if row.object_type == allocation.TYPE_TENANT_GROUP:
            labels = ["", row.name]
        elif row.name == allocation.NONE_NAME and row.id is None:
            labels = ["", ""]
        else:
            labels = [row.name, ""]
        gauge.add_metric([*labels, row.currency], float(round_money(row.monthly_cost)))
    yield gauge


metrics = [
    metric_money,
    metric_contracts_by_tier,
    metric_uncovered_devices,
    metric_open_alerts,
    metric_tenant_monthly_cost,
]
