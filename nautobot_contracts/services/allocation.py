"""Cost allocation (docs/user/cost-allocation.md): each contract's monthly cost split over its assignments in force.

On date D a contract active on D spreads its monthly cost over its assignments in force on D (`coverage.in_force_q`)
in proportion to their `allocation_weight`; an active contract with no assignment in force is unallocated. Each share
is attributed to the assigned object's tenant (a Tenant is its own; a tenant group keeps the share at group level),
its location (a device's, rack's or location's own; a cluster's own; a VM's cluster's; a circuit's when every
termination of it that has a location has the same one; none for tenants and tenant groups) and the contract's cost
center. A location's figure includes its descendants'. Shares are not rounded; callers round where they show.

Restricted to a user, the split runs over the assignments that user may view (of contracts they may view): rows plus
the unallocated remainder add up to that user's monthly burn. Objects a row would name that the user may not view
(a tenant, tenant group or location) are gathered in one "(hidden)" row per currency.

Everything is set-based: the shares are one SQL statement (a window sum of the weights per contract over the
assignments in force, each target joined by its content type), grouped in the same statement; the location roll-up
walks up the tree from the locations that carry a share, inside that statement too. Then one aggregate for the
totals, one for the exchange rates and one per kind of object named.
"""

from dataclasses import dataclass, field
import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from nautobot.circuits.models import Circuit, CircuitTermination
from nautobot.dcim.models import Device, Location, Rack
from nautobot.tenancy.models import Tenant, TenantGroup
from nautobot.virtualization.models import Cluster, VirtualMachine

from nautobot_contracts.services import coverage, fx, terms
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.money import money_str

GROUP_BY_TENANT = "tenant"
GROUP_BY_LOCATION = "location"
GROUP_BY_COST_CENTER = "cost_center"
GROUP_BY_CONTRACT = "contract"
GROUP_BY_CHOICES = (
    (GROUP_BY_TENANT, "Tenant"),
    (GROUP_BY_LOCATION, "Location"),
    (GROUP_BY_COST_CENTER, "Cost center"),
    (GROUP_BY_CONTRACT, "Contract"),
)
GROUP_BYS = tuple(value for value, _ in GROUP_BY_CHOICES)
NONE_NAME = "(none)"
HIDDEN_NAME = "(hidden)"
TOP_CONTRACTS = 5
_SUM_FIELD = DecimalField(max_digits=30, decimal_places=10)

# object_type of the rows, as "app_label.model".
TYPE_TENANT = "tenancy.tenant"
TYPE_TENANT_GROUP = "tenancy.tenantgroup"
TYPE_LOCATION = "dcim.location"
TYPE_CONTRACT = "nautobot_contracts.contract"


@dataclass
class AllocationRow:
    """One group's allocated monthly cost in one currency (unrounded)."""

    id: object  # a UUID, a cost center (its text), or None for the "(none)" and "(hidden)" rows
    name: str
    currency: str
    monthly_cost: Decimal
    converted_monthly_cost: Decimal | None = None  # None: no exchange rate for the currency
    own_monthly_cost: Decimal | None = None  # group_by=location: the location's own, without its descendants
    object_type: str | None = None  # "tenancy.tenant", "tenancy.tenantgroup", "dcim.location", a contract, or None
    parent_id: object = None  # group_by=location: the parent location's id (None for a top-level location)


@dataclass
class Allocation:
    """The monthly cost allocated on `as_of`, grouped by `group_by`, with the unallocated remainder and the totals."""

    as_of: datetime.date
    group_by: str
    reporting_currency: str
    rows: list
    unallocated: dict  # {currency: amount}
    total: dict  # {currency: amount}: the monthly burn (or, with a tenant or location filter, the rows' sum)
    converted_total: Decimal = terms.ZERO
    unconverted: list = field(default_factory=list)


class _Sql:
    """A SQL text built piece by piece with its parameters kept in the same order."""

    def __init__(self):
        self.parts, self.params = [], []

    def add(self, text, *params):
        """Append `text` and its parameters."""
        self.parts.append(text)
        self.params.extend(params)
        return self

    def text(self):
        """The whole statement."""
        return "".join(self.parts)


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _in_force_sql(as_of, user, currency):
    """(sql, params) of the assignments in force on `as_of` that `user` may view, with their contract's figures.

    Raises EmptyResultSet when the restriction leaves nothing.
    """
    assignments = coverage.visible_assignments(user).filter(coverage.in_force_q(as_of))
    if currency:
        assignments = assignments.filter(contract__currency=currency)
    columns = {
        "a_contract": F("contract_id"),
        "a_contract_name": F("contract__name"),
        "a_weight": F("allocation_weight"),
        "a_type": F("assigned_object_type_id"),
        "a_object": F("assigned_object_id"),
        "a_monthly": terms.monthly_cost_expression("contract__"),
        "a_currency": F("contract__currency"),
        "a_cost_center": F("contract__cost_center"),
    }
    return assignments.order_by().annotate(**columns).values(*columns).query.sql_with_params()


def _shares(sql, as_of, user, currency):
    """Append the CTEs `in_force`, `weighted`, `circuit_sites` and `shares` (one row per assignment in force).

    `shares` has contract_id, contract_name, currency, cost_center, share, tenant_id, tenant_group_id, location_id.
    Raises EmptyResultSet when nothing can be in force for `user`.
    """
    in_force, params = _in_force_sql(as_of, user, currency)
    types = ContentType.objects.get_for_models(
        Device, Rack, Location, Circuit, VirtualMachine, Cluster, Tenant, TenantGroup
    )
    ct = {model: types[model].pk for model in types}
    # Only quoted table names and Django-compiled SQL are interpolated; every value stays a bound parameter.
    sql.add(f"in_force AS MATERIALIZED ({in_force}), ", *params)  # noqa: S608
    # A share = monthly cost x weight / the weights of the contract's assignments in force: not rounded.
    sql.add(
        "weighted AS (SELECT f.*, f.a_monthly * f.a_weight / SUM(f.a_weight) OVER (PARTITION BY f.a_contract) AS share "
        "FROM in_force AS f), "
    )
    # A circuit's location: the one location all its terminations with a location share; else none (A and Z sides
    # at two sites make it ambiguous).
    sql.add(
        "circuit_sites AS (SELECT circuit_id, (array_agg(DISTINCT location_id))[1] AS location_id "  # noqa: S608
        f"FROM {_table(CircuitTermination)} WHERE location_id IS NOT NULL "
        "AND circuit_id IN (SELECT a_object FROM in_force WHERE a_type = %s) "
        "GROUP BY circuit_id HAVING COUNT(DISTINCT location_id) = 1), ",
        ct[Circuit],
    )
    sql.add(
        "shares AS (SELECT w.a_contract AS contract_id, w.a_contract_name AS contract_name, w.a_currency AS currency, "
        "w.a_cost_center AS cost_center, w.share, "
        "CASE w.a_type WHEN %s THEN device.tenant_id WHEN %s THEN rack.tenant_id WHEN %s THEN location.tenant_id "
        "WHEN %s THEN circuit.tenant_id WHEN %s THEN vm.tenant_id WHEN %s THEN cluster.tenant_id "
        "WHEN %s THEN w.a_object END AS tenant_id, "
        "CASE w.a_type WHEN %s THEN w.a_object END AS tenant_group_id, "
        "CASE w.a_type WHEN %s THEN device.location_id WHEN %s THEN rack.location_id WHEN %s THEN location.id "
        "WHEN %s THEN circuit_sites.location_id WHEN %s THEN vm_cluster.location_id WHEN %s THEN cluster.location_id "
        "END AS location_id FROM weighted AS w ",
        *(ct[model] for model in (Device, Rack, Location, Circuit, VirtualMachine, Cluster, Tenant, TenantGroup)),
        *(ct[model] for model in (Device, Rack, Location, Circuit, VirtualMachine, Cluster)),
    )
    for alias, model in (
        ("device", Device),
        ("rack", Rack),
        ("location", Location),
        ("circuit", Circuit),
        ("vm", VirtualMachine),
        ("cluster", Cluster),
    ):
        sql.add(
            f"LEFT JOIN {_table(model)} AS {alias} ON w.a_type = %s AND {alias}.id = w.a_object ",  # noqa: S608
            ct[model],
        )
    sql.add(
        f"LEFT JOIN {_table(Cluster)} AS vm_cluster ON vm_cluster.id = vm.cluster_id "  # noqa: S608
        "LEFT JOIN circuit_sites ON w.a_type = %s AND circuit_sites.circuit_id = w.a_object), ",
        ct[Circuit],
    )


def _subtree(sql, location_id):
    """Append the CTE `subtree(id)`: the location and all its descendants."""
    sql.add(
        "subtree(id) AS (SELECT CAST(%s AS uuid) "  # noqa: S608
        f"UNION SELECT node.id FROM {_table(Location)} AS node JOIN subtree ON node.parent_id = subtree.id), ",
        str(location_id),
    )


def _scoped(sql, tenant_id=None, location_id=None):
    """Append the CTE `scoped`: the shares attributed to the tenant and to the location's subtree, when given."""
    conditions, params = ["TRUE"], []
    if tenant_id is not None:
        conditions.append("tenant_id = CAST(%s AS uuid)")
        params.append(str(tenant_id))
    if location_id is not None:
        conditions.append("location_id IN (SELECT id FROM subtree)")
    sql.add(f"scoped AS (SELECT * FROM shares WHERE {' AND '.join(conditions)}) ", *params)  # noqa: S608


def _fetch(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql.text(), sql.params)
        return cursor.fetchall()


def _grouped(as_of, group_by, user, currency, tenant_id, location_id):
    """Rows of the grouping statement; [] when nothing is in force for `user`.

    tenant: (tenant_id, tenant_group_id, currency, amount); cost_center: (cost_center or None, currency, amount);
    contract: (contract_id, contract_name, currency, amount); location: (location_id or None, currency, rolled-up
    amount, own amount), location_id None being the shares with no location.
    """
    sql = _Sql().add("WITH RECURSIVE ")
    try:
        _shares(sql, as_of, user, currency)
    except EmptyResultSet:
        return []
    if location_id is not None:
        _subtree(sql, location_id)
    _scoped(sql, tenant_id, location_id)
    if group_by == GROUP_BY_TENANT:
        sql.add("SELECT tenant_id, tenant_group_id, currency, SUM(share) FROM scoped GROUP BY 1, 2, 3")
    elif group_by == GROUP_BY_COST_CENTER:
        sql.add("SELECT NULLIF(cost_center, ''), currency, SUM(share) FROM scoped GROUP BY 1, 2")
    elif group_by == GROUP_BY_CONTRACT:
        sql.add("SELECT contract_id, contract_name, currency, SUM(share) FROM scoped GROUP BY 1, 2, 3")
    else:
        # Each location's own sums, then every sum added to each of its ancestors (itself included) once: the walk
        # up the tree starts only from the locations that carry a share.
        sql.add(
            ", own AS (SELECT location_id, currency, SUM(share) AS amount FROM scoped GROUP BY 1, 2), "  # noqa: S608
            "chain(location_id, ancestor_id, parent_id) AS ("
            f"SELECT node.id, node.id, node.parent_id FROM {_table(Location)} AS node "
            "WHERE node.id IN (SELECT location_id FROM own) "
            f"UNION ALL SELECT chain.location_id, node.id, node.parent_id FROM {_table(Location)} AS node "
            "JOIN chain ON node.id = chain.parent_id) "
            "SELECT chain.ancestor_id, own.currency, SUM(own.amount), "
            "COALESCE(SUM(own.amount) FILTER (WHERE chain.ancestor_id = own.location_id), 0) "
            "FROM own JOIN chain ON chain.location_id = own.location_id "
        )
        if location_id is not None:
            sql.add("WHERE chain.ancestor_id IN (SELECT id FROM subtree) ")
        sql.add("GROUP BY 1, 2 UNION ALL SELECT NULL, currency, SUM(amount), SUM(amount) FROM own ")
        sql.add("WHERE location_id IS NULL GROUP BY 2")
    return _fetch(sql)


def _in_force_contract_ids(as_of, user, currency):
    assignments = coverage.visible_assignments(user).filter(coverage.in_force_q(as_of))
    if currency:
        assignments = assignments.filter(contract__currency=currency)
    return assignments.order_by().values("contract_id")


def burn_and_unallocated(as_of, user=None, currency=None):
    """({currency: monthly burn}, {currency: unallocated}) of the contracts `user` may view, in one query.

    Unallocated: the monthly cost of the active contracts with no assignment in force that `user` may view.
    """
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    contracts = Contract.objects.filter(currency=currency) if currency else None
    monthly = terms.monthly_cost_expression()
    not_in_force = ~Q(pk__in=_in_force_contract_ids(as_of, user, currency))
    rows = (
        terms.active_contracts(as_of, user=user, queryset=contracts)
        .order_by()
        .values("currency")
        .annotate(
            burn=Coalesce(Sum(monthly), Value(terms.ZERO), output_field=_SUM_FIELD),
            unallocated=Coalesce(Sum(monthly, filter=not_in_force), Value(terms.ZERO), output_field=_SUM_FIELD),
        )
    )
    burn, unallocated = {}, {}
    for row in rows:
        burn[row["currency"]] = row["burn"]
        unallocated[row["currency"]] = row["unallocated"]
    return burn, unallocated


def _visible(model, ids, user, *fields):
    """{pk: (fields...)} of the `model` objects among `ids` that `user` may view, in one query (none if no ids)."""
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    queryset = model.objects.all()
    if hasattr(queryset, "without_tree_fields"):
        queryset = queryset.without_tree_fields()
    rows = restrict(queryset, user).filter(pk__in=ids).order_by().values_list("pk", *fields)
    return {row[0]: row[1:] for row in rows}


def _add(totals, key, amount):
    totals[key] = totals.get(key, terms.ZERO) + amount


def _tenant_rows(raw, user):
    tenants = _visible(Tenant, (row[0] for row in raw), user, "name")
    groups = _visible(TenantGroup, (row[1] for row in raw), user, "name")
    rows, hidden, none = [], {}, {}
    for tenant_id, group_id, currency, amount in raw:
        if tenant_id is None and group_id is None:
            _add(none, currency, amount)
        elif tenant_id is not None and tenant_id in tenants:
            rows.append(AllocationRow(tenant_id, tenants[tenant_id][0], currency, amount, object_type=TYPE_TENANT))
        elif tenant_id is None and group_id in groups:
            rows.append(AllocationRow(group_id, groups[group_id][0], currency, amount, object_type=TYPE_TENANT_GROUP))
        else:
            _add(hidden, currency, amount)
    return rows, hidden, none


def _location_rows(raw, user):
    locations = _visible(Location, (row[0] for row in raw), user, "name", "parent_id")
    rows, hidden, none = [], {}, {}
    for location_id, currency, rolled, own in raw:
        if location_id is None:
            _add(none, currency, own)
        elif location_id in locations:
            name, parent_id = locations[location_id]
            rows.append(
                AllocationRow(
                    location_id,
                    name,
                    currency,
                    rolled,
                    own_monthly_cost=own,
                    object_type=TYPE_LOCATION,
                    parent_id=parent_id,
                )  # fmt: skip
            )
        elif own:
            # A location the user may not view: its own share is gathered; its visible ancestors still include it.
            _add(hidden, currency, own)
    return rows, hidden, none


def _special_rows(amounts, name, own=False):
    return [
        AllocationRow(None, name, currency, amount, own_monthly_cost=amount if own else None)
        for currency, amount in sorted(amounts.items())
    ]


def _scope_total(raw, group_by):
    """{currency: sum of the scoped shares}, from the grouping statement's rows."""
    total = {}
    for row in raw:
        if group_by == GROUP_BY_LOCATION:
            _add(total, row[1], row[3])  # own amounts: each share once
        else:
            _add(total, row[-2], row[-1])
    return total


def allocation(as_of, group_by, user=None, currency=None, location=None, tenant=None):
    """The monthly cost allocated on `as_of` grouped by tenant, location, cost center or contract, for `user`.

    Filters: `currency` (the contracts in it), `location` (the shares attributed to it or a descendant; the rows are
    then that subtree's locations) and `tenant` (the shares attributed to that tenant). Without a location or tenant
    filter, `total` is the monthly burn per currency (services.money) and `unallocated` the part of it allocated to
    nothing; with one, `total` is the sum of the shares in scope and nothing is unallocated. A bounded number of
    queries, whatever the data size.
    """
    if group_by not in GROUP_BYS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BYS)}, not {group_by!r}.")
    currency = currency.upper() if currency else None
    location_id = getattr(location, "pk", location)
    tenant_id = getattr(tenant, "pk", tenant)
    raw = _grouped(as_of, group_by, user, currency, tenant_id, location_id)

    if location_id is None and tenant_id is None:
        total, unallocated = burn_and_unallocated(as_of, user=user, currency=currency)
    else:
        total, unallocated = _scope_total(raw, group_by), {}

    if group_by == GROUP_BY_TENANT:
        rows, hidden, none = _tenant_rows(raw, user)
    elif group_by == GROUP_BY_LOCATION:
        rows, hidden, none = _location_rows(raw, user)
    elif group_by == GROUP_BY_COST_CENTER:
        rows, hidden, none = [], {}, {}
        for cost_center, row_currency, amount in raw:
            if cost_center is None:
                _add(none, row_currency, amount)
            else:
                rows.append(AllocationRow(cost_center, cost_center, row_currency, amount))
    else:
        rows = [AllocationRow(pk, name, code, amount, object_type=TYPE_CONTRACT) for pk, name, code, amount in raw]
        hidden, none = {}, {}
    rows.sort(key=lambda row: (row.name.lower(), row.name, row.currency, str(row.id)))
    own = group_by == GROUP_BY_LOCATION
    rows += _special_rows(hidden, HIDDEN_NAME, own) + _special_rows(none, NONE_NAME, own)

    rates = fx.rates_on(as_of, currencies={row.currency for row in rows} | set(total), user=user)
    for row in rows:
        rate = rates.get(row.currency)
        row.converted_monthly_cost = None if rate is None else row.monthly_cost * rate
    conversion = fx.convert(total, as_of, rates=rates)
    return Allocation(
        as_of=as_of,
        group_by=group_by,
        reporting_currency=conversion.currency,
        rows=rows,
        unallocated=dict(sorted(unallocated.items())),
        total=dict(sorted(total.items())),
        converted_total=conversion.total,
        unconverted=conversion.unconverted,
    )


def _money(amount):
    return None if amount is None else money_str(amount)


def allocation_dict(result):
    """An Allocation as the REST API and the Job show it: money as two-decimal strings (rounded here), ids as text."""
    rows = []
    for row in result.rows:
        item = {
            "id": None if row.id is None else str(row.id),
            "name": row.name,
            "object_type": row.object_type,
            "currency": row.currency,
            "monthly_cost": money_str(row.monthly_cost),
        }
        if result.group_by == GROUP_BY_LOCATION:
            item["own_monthly_cost"] = money_str(row.own_monthly_cost)
            item["parent_id"] = None if row.parent_id is None else str(row.parent_id)
        item["converted_monthly_cost"] = _money(row.converted_monthly_cost)
        rows.append(item)
    return {
        "as_of": result.as_of.isoformat(),
        "group_by": result.group_by,
        "reporting_currency": result.reporting_currency,
        "rows": rows,
        "unallocated": {code: money_str(amount) for code, amount in result.unallocated.items()},
        "total": {code: money_str(amount) for code, amount in result.total.items()},
        "converted_total": money_str(result.converted_total),
        "unconverted": result.unconverted,
    }


# One object's monthly cost, for its detail page.


@dataclass
class CostFigures:
    """Amounts per currency, each converted into the reporting currency where a rate exists, and their sum."""

    by_currency: dict
    converted: dict  # {currency: amount in the reporting currency}, converted currencies only
    total: Decimal
    unconverted: list


@dataclass
class ContractShare:
    """One contract's share of an object's monthly cost."""

    contract: object
    currency: str
    monthly_cost: Decimal
    converted_monthly_cost: Decimal | None


@dataclass
class ObjectCost:
    """A location's or tenant's allocated monthly cost on a date, and the contracts contributing most to it."""

    as_of: datetime.date
    reporting_currency: str
    own: CostFigures
    including_descendants: CostFigures | None  # locations only
    top_contracts: list = field(default_factory=list)  # [ContractShare], highest converted cost first


def _figures(amounts, rates):
    conversion = fx.convert(amounts, None, rates=rates)
    return CostFigures(dict(sorted(amounts.items())), conversion.converted, conversion.total, conversion.unconverted)


def _object_cost(obj, as_of, user, top):
    """ObjectCost of a Location (with descendants) or a Tenant: three queries (figures, rates, top contracts)."""
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    is_location = isinstance(obj, Location)
    sql = _Sql().add("WITH RECURSIVE ")
    raw = []
    try:
        _shares(sql, as_of, user, None)
    except EmptyResultSet:
        pass
    else:
        if is_location:
            _subtree(sql, obj.pk)
            _scoped(sql, location_id=obj.pk)
            own = "SUM(share) FILTER (WHERE location_id = CAST(%s AS uuid))"
            own_params = [str(obj.pk)]
        else:
            _scoped(sql, tenant_id=obj.pk)
            own, own_params = "SUM(share)", []
        # One statement: the sums per currency (kind 0), then each currency's `top` largest contracts (kind 1); the
        # overall top by converted cost is always among them.
        sql.add(
            f"SELECT 0, NULL, currency, COALESCE({own}, 0), SUM(share) FROM scoped GROUP BY currency "  # noqa: S608
            "UNION ALL SELECT 1, contract_id, currency, amount, amount FROM ("
            "SELECT contract_id, currency, SUM(share) AS amount, "
            "ROW_NUMBER() OVER (PARTITION BY currency ORDER BY SUM(share) DESC, contract_id) AS rank "
            "FROM scoped GROUP BY contract_id, currency) AS ranked WHERE rank <= %s",
            *own_params,
            top,
        )
        raw = _fetch(sql)
    own_amounts = {currency: own for kind, _, currency, own, _ in raw if kind == 0}
    rolled = {currency: amount for kind, _, currency, _, amount in raw if kind == 0}
    candidates = [(pk, currency, amount) for kind, pk, currency, amount, _ in raw if kind == 1]
    rates = fx.rates_on(as_of, currencies=set(rolled), user=user)

    def rank(candidate):
        rate = rates.get(candidate[1])
        # Converted amounts first, largest first; then those with no rate, by amount.
        return (rate is None, -(candidate[2] * rate if rate is not None else candidate[2]), str(candidate[0]))

    chosen = sorted(candidates, key=rank)[:top]
    contracts = (
        restrict(Contract.objects.filter(pk__in=[pk for pk, _, _ in chosen]), user).order_by().in_bulk()
        if chosen
        else {}
    )
    shares = [
        ContractShare(
            contract=contracts[pk],
            currency=currency,
            monthly_cost=amount,
            converted_monthly_cost=amount * rates[currency] if currency in rates else None,
        )
        for pk, currency, amount in chosen
        if pk in contracts
    ]
    return ObjectCost(
        as_of=as_of,
        reporting_currency=fx.reporting_currency(),
        own=_figures({code: amount for code, amount in own_amounts.items() if amount}, rates),
        including_descendants=_figures(rolled, rates) if is_location else None,
        top_contracts=shares,
    )


def location_cost(location, as_of, user=None, top=TOP_CONTRACTS):
    """A location's allocated monthly cost on `as_of`: its own, including its descendants', and the top contracts."""
    return _object_cost(location, as_of, user, top)


def tenant_cost(tenant, as_of, user=None, top=TOP_CONTRACTS):
    """A tenant's allocated monthly cost on `as_of` (shares attributed to it, not to its group) and top contracts."""
    return _object_cost(tenant, as_of, user, top)
