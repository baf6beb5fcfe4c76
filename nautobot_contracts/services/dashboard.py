"""The dashboard's figures: counters and chart series, each from the service that owns its rule.

Every function takes `as_of` and an optional `user` (everything is restricted to what that user may view: a hidden
contract contributes to no figure) and an optional contract `queryset` (the dashboard's tenant/provider filter).
Figures are unrounded Decimals; the views round them where they show them. The number of queries is fixed,
whatever the number of contracts, devices or snapshots.
"""

from dataclasses import dataclass, field, replace
import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from nautobot.dcim.models import Device, Location

from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.services import alerts, budgets, coverage, fx, invoices, money, renewals, terms
from nautobot_contracts.services.access import restrict

REPORT_MONTHS = 12
TOP_PROVIDERS = 10
TOP_LOCATIONS = 10
NEXT_DEADLINES = 20
NEEDS_ACTION_LIMIT = 10
HISTORY_DAYS = 365
NEEDS_ACTION_TIERS = (terms.TIER_MISSED, terms.TIER_URGENT, terms.TIER_SOON)
HIDDEN = "(hidden)"
_SUM_FIELD = DecimalField(max_digits=30, decimal_places=10)


def contract_scope(tenant=None, provider=None):
    """The contracts the dashboard looks at: all, or those of one tenant and/or one provider (not yet restricted)."""
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    contracts = Contract.objects.all()
    if tenant is not None:
        contracts = contracts.filter(tenant=tenant)
    if provider is not None:
        contracts = contracts.filter(provider=provider)
    return contracts


def month_starts(as_of, months=REPORT_MONTHS):
    """The first day of `as_of`'s month and of the `months - 1` months after it."""
    first = as_of.replace(day=1)
    return [first + relativedelta(months=offset) for offset in range(months)]


def month_label(day):
    """A month as "2026-03"."""
    return day.strftime("%Y-%m")


# Money


@dataclass
class Converted:
    """Per-currency amounts and their sum in the reporting currency (unconverted currencies left out, listed)."""

    by_currency: dict
    total: Decimal
    currency: str
    unconverted: list
    converted: dict  # {currency: amount in the reporting currency}, converted currencies only


def converted(amounts, as_of, rates):
    """`Converted` for {currency: amount}, with rates already read by `fx.rates_on`."""
    conversion = fx.convert(amounts, as_of, rates=rates)
    return Converted(
        dict(sorted(amounts.items())),
        conversion.total,
        conversion.currency,
        conversion.unconverted,
        conversion.converted,
    )


def renewals_by_month(as_of, months=REPORT_MONTHS, user=None, queryset=None):
    """{"YYYY-MM": {currency: renewal value}} for the contracts that renew in each of the next `months` months.

    A contract active on `as_of` renews in a month when its current term end, as of the first day of that month
    (or `as_of` itself for the current month), falls inside that month; its value is one more term
    (`money.renewal_value_expression`, the same rule as the renewal forecast). One-time contracts never renew.
    One query: one filtered sum per month, grouped by currency.
    """
    starts = month_starts(as_of, months)
    ends = [start + relativedelta(months=1) - datetime.timedelta(days=1) for start in starts]
    aliases, sums = {}, {}
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        window_start = max(start, as_of)
        aliases[f"term_end_{index}"] = terms.current_term_end_expression(window_start)
        in_month = Q(**{f"term_end_{index}__gte": window_start, f"term_end_{index}__lte": end})
        sums[f"month_{index}"] = Coalesce(
            Sum(money.renewal_value_expression(), filter=in_month), Value(terms.ZERO), output_field=_SUM_FIELD
        )
    rows = (
        terms.active_contracts(as_of, user=user, queryset=queryset)
        .exclude(billing_period=BillingPeriodChoices.PERIOD_ONE_TIME)
        .alias(**aliases)
        .order_by()
        .values("currency")
        .annotate(**sums)
    )
    result = {month_label(start): {} for start in starts}
    for row in rows:
        for index, start in enumerate(starts):
            value = row[f"month_{index}"]
            if value:
                result[month_label(start)][row["currency"]] = value
    return result


def converted_renewals_by_month(as_of, months=REPORT_MONTHS, user=None, queryset=None):
    """{"YYYY-MM": Converted} of `renewals_by_month`, with the rates effective on `as_of`; two queries."""
    by_month = renewals_by_month(as_of, months, user=user, queryset=queryset)
    currencies = {code for amounts in by_month.values() for code in amounts}
    rates = fx.rates_on(as_of, currencies=currencies, user=user)
    return {month: converted(amounts, as_of, rates) for month, amounts in by_month.items()}


def provider_burn(as_of, user=None, queryset=None):
    """[{"provider_id", "provider", "currency", "monthly_burn"}] per provider and currency, in one query."""
    rows = (
        terms.active_contracts(as_of, user=user, queryset=queryset)
        .order_by()
        .values("provider_id", "provider__name", "currency")
        .annotate(
            monthly_burn=Coalesce(Sum(terms.monthly_cost_expression()), Value(terms.ZERO), output_field=_SUM_FIELD)
        )
    )
    return [
        {
            "provider_id": row["provider_id"],
            "provider": row["provider__name"],
            "currency": row["currency"],
            "monthly_burn": row["monthly_burn"],
        }
        for row in rows
    ]


def top_providers(rows, as_of, rates, limit=TOP_PROVIDERS):
    """The `limit` providers with the highest converted monthly burn: [(provider_id, name, Converted)]."""
    per_provider = {}
    for row in rows:
        key = (row["provider_id"], row["provider"])
        amounts = per_provider.setdefault(key, {})
        amounts[row["currency"]] = amounts.get(row["currency"], terms.ZERO) + row["monthly_burn"]
    ranked = [(pk, name, converted(amounts, as_of, rates)) for (pk, name), amounts in per_provider.items()]
    ranked.sort(key=lambda item: (-item[2].total, item[1]))
    return ranked[:limit]


def visible_ids(model, ids, user):
    """The subset of `ids` of `model` objects `user` may view (all of them without a user), in one query at most."""
    ids = {pk for pk in ids if pk is not None}
    if user is None or getattr(user, "is_superuser", False) or not ids:
        return ids
    return set(restrict(model.objects.all(), user).filter(pk__in=ids).values_list("pk", flat=True))


# Costs over time


def cost_history(as_of, days=HISTORY_DAYS, user=None):
    """{currency: {date: monthly_burn}} from the cost snapshots of the `days` days up to `as_of`, in one query."""
    from nautobot_contracts.models import CostSnapshot  # pylint: disable=import-outside-toplevel

    rows = (
        restrict(CostSnapshot.objects.all(), user)
        .filter(snapshot_date__lte=as_of, snapshot_date__gt=as_of - datetime.timedelta(days=days))
        .order_by("snapshot_date", "currency")
        .values_list("snapshot_date", "currency", "monthly_burn")
    )
    history = {}
    for snapshot_date, currency, burn in rows:
        history.setdefault(currency, {})[snapshot_date] = burn
    return history


def invoices_by_month(contract, user=None):
    """{"YYYY-MM": amount} of a contract's invoices (not cancelled) by the month their service period starts."""
    from nautobot_contracts.models import Invoice  # pylint: disable=import-outside-toplevel

    rows = (
        restrict(Invoice.objects.filter(contract=contract), user)
        .exclude(status__name="Cancelled")
        .annotate(month=TruncMonth("period_start"))
        .order_by("month")
        .values("month")
        .annotate(amount=Sum("amount"))
    )
    return {month_label(row["month"]): row["amount"] for row in rows}


# Coverage


def uncovered_by_top_location(as_of, user=None, devices=None):
    """[(top-level location id, name, uncovered devices)], most first, over every top-level location.

    One query: the uncovered devices (services.coverage) counted per location, each location mapped to the root of
    its tree by a recursive CTE walking down from the roots.
    """
    counts = coverage.uncovered_devices(as_of, user=user, queryset=devices).order_by().values("location_id")
    counts = counts.annotate(devices=Count("pk"))
    try:
        counts_sql, params = counts.query.sql_with_params()
    except EmptyResultSet:
        return []
    table = connection.ops.quote_name(Location._meta.db_table)
    # Only a quoted table name and Django-compiled SQL are interpolated; every value stays a bound parameter.
    sql = (
        "WITH RECURSIVE tree(id, root_id) AS ("  # noqa: S608
        f"SELECT id, id FROM {table} WHERE parent_id IS NULL "
        f"UNION ALL SELECT node.id, tree.root_id FROM {table} AS node JOIN tree ON node.parent_id = tree.id"
        f") SELECT root.id, root.name, SUM(counts.devices) FROM ({counts_sql}) AS counts "
        f"JOIN tree ON tree.id = counts.location_id JOIN {table} AS root ON root.id = tree.root_id "
        "GROUP BY root.id, root.name ORDER BY 3 DESC, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(root_id, name, int(total)) for root_id, name, total in cursor.fetchall()]


# Renewals


@dataclass(frozen=True)
class Deadline:
    """One row of the notice-deadline table."""

    contract: object
    notice_deadline: datetime.date
    term_end: datetime.date
    tier: str | None
    renewal_value: Decimal
    provider_visible: bool = True


def next_deadlines(as_of, limit=NEXT_DEADLINES, user=None, queryset=None):
    """The `limit` active contracts whose notice deadline is next (on or after `as_of`), soonest first; one query."""
    contracts = (
        terms.active_contracts(as_of, user=user, queryset=queryset)
        .annotate(term_end=terms.current_term_end_expression(as_of), deadline=terms.notice_deadline_expression(as_of))
        .filter(deadline__gte=as_of)
        .select_related("provider", "status")
        .order_by("deadline", "name", "pk")[:limit]
    )
    return [
        Deadline(
            contract=contract,
            notice_deadline=contract.deadline,
            term_end=contract.term_end,
            tier=terms.renewal_tier(contract, as_of),
            renewal_value=terms.monthly_cost(contract) * terms.renewal_term_months(contract),
        )
        for contract in contracts
    ]


def needing_action(as_of, user=None, queryset=None):
    """The renewal check's missed, urgent and soon contracts (services.renewals), soonest deadline first."""
    items = renewals.upcoming_renewals(as_of, window_days=0, user=user, queryset=queryset)
    return [item for item in items if item.tier in NEEDS_ACTION_TIERS]


# The whole dashboard


@dataclass
class Dashboard:
    """Everything the dashboard page shows, computed in a fixed number of queries."""

    as_of: datetime.date
    active_contracts: int
    burn: Converted
    forecast_90d: Converted
    needing_action: list
    tier_counts: dict
    uncovered_devices: int
    overdue_invoices: int
    renewals_by_month: dict  # {"YYYY-MM": Converted}
    top_providers: list  # [(provider_id, name, Converted)]
    cost_history: dict
    uncovered_by_location: list  # [(location_id, name, count)], top TOP_LOCATIONS
    deadlines: list
    reporting_currency: str = field(default_factory=fx.reporting_currency)
    open_alerts: dict = field(default_factory=dict)  # {severity: n}: open alerts the viewer may view
    budgets: list = field(default_factory=list)  # [(Budget, BudgetFigures)] of the fiscal year containing as_of


def fiscal_year_budgets(as_of, user=None, tenant=None):
    """[(budget, BudgetFigures)] of the fiscal year containing `as_of` that `user` may view (three queries)."""
    from nautobot_contracts.models import Budget  # pylint: disable=import-outside-toplevel

    queryset = Budget.objects.filter(fiscal_year=budgets.fiscal_year_of(as_of))
    if tenant is not None:
        queryset = queryset.filter(tenant=tenant)
    rows = list(restrict(queryset, user).select_related("tenant").order_by("currency", "name"))
    found = budgets.budget_figures(rows, as_of, user=user)
    return [(budget, found[budget.pk]) for budget in rows]


def dashboard(as_of, user=None, tenant=None, provider=None):
    """The dashboard's figures on `as_of` for `user`, optionally for one tenant and/or one provider.

    The tenant filter also limits the device figures to that tenant's devices; the provider filter does not change
    them (coverage comes from any contract the user may view). Cost history is global (snapshots are per currency).
    """
    from nautobot_contracts.models import ContractAlert, Invoice, ServiceProvider  # pylint: disable=import-outside-toplevel

    scope = contract_scope(tenant, provider)
    totals = money.currency_totals(as_of, money.RENEWAL_FORECAST_DAYS, user=user, queryset=scope)
    by_month = renewals_by_month(as_of, user=user, queryset=scope)
    providers = provider_burn(as_of, user=user, queryset=scope)
    currencies = set(totals) | {row["currency"] for row in providers}
    currencies |= {code for amounts in by_month.values() for code in amounts}
    rates = fx.rates_on(as_of, currencies=currencies, user=user)

    burn = converted({code: item.monthly_burn for code, item in totals.items()}, as_of, rates)
    forecast = converted({code: item.renewal_forecast for code, item in totals.items()}, as_of, rates)
    action = needing_action(as_of, user=user, queryset=scope)
    counts = renewals.tier_counts(action)

    devices = Device.objects.filter(tenant=tenant) if tenant is not None else None
    locations = uncovered_by_top_location(as_of, user=user, devices=devices)
    overdue = invoices.overdue_invoices(
        as_of, user=user, queryset=Invoice.objects.filter(contract__in=restrict(scope, user).values("pk"))
    ).count()

    top = top_providers(providers, as_of, rates)
    deadlines = next_deadlines(as_of, user=user, queryset=scope)
    visible = visible_ids(
        ServiceProvider, [pk for pk, _, _ in top] + [row.contract.provider_id for row in deadlines], user
    )
    top = [(pk, name if pk in visible else HIDDEN, figure) for pk, name, figure in top]
    deadlines = [replace(row, provider_visible=row.contract.provider_id in visible) for row in deadlines]
    top_locations = locations[:TOP_LOCATIONS]
    visible_locations = visible_ids(Location, [pk for pk, _, _ in top_locations], user)
    return Dashboard(
        as_of=as_of,
        active_contracts=sum(item.active_contracts for item in totals.values()),
        burn=burn,
        forecast_90d=forecast,
        needing_action=action,
        tier_counts=counts,
        uncovered_devices=sum(count for _, _, count in locations),
        overdue_invoices=overdue,
        renewals_by_month={month: converted(amounts, as_of, rates) for month, amounts in by_month.items()},
        top_providers=top,
        cost_history=cost_history(as_of, user=user),
        uncovered_by_location=[
            (pk, name if pk in visible_locations else HIDDEN, count) for pk, name, count in top_locations
        ],
        deadlines=deadlines,
        # With a tenant or provider filter, only the alerts of contracts in that scope (anomalies have no contract).
        open_alerts=alerts.open_alert_counts(
            user=user,
            queryset=ContractAlert.objects.filter(contract__in=restrict(scope, user).values("pk"))
            if tenant is not None or provider is not None
            else None,
        ),
        budgets=fiscal_year_budgets(as_of, user=user, tenant=tenant),
    )


def burn_summary(as_of, user=None, queryset=None):
    """Monthly burn per currency and its converted total (the home page's "Monthly burn" panel); two queries."""
    burn = money.monthly_burn_by_currency(as_of, user=user, queryset=queryset)
    return converted(burn, as_of, fx.rates_on(as_of, currencies=burn.keys(), user=user))
