"""Entitlements (docs/user/entitlements.md): how much of what a contract buys is used on a date, set-based.

A contract states an entitlement with `quantity` and `unit`. **Used** on D is:

- unit *devices*: the number of distinct devices the contract reaches on D by the coverage rule (services.coverage):
  an assignment in force on D targeting the device, its rack, its location or any ancestor of it, its tenant, or its
  tenant's group or any ancestor of that group. The contract's *type* does not matter here: the contract states its
  own entitlement, so every device it reaches counts, not only those of support/maintenance/warranty contracts;
- any other unit: the sum of the `quantity` of its assignments in force on D (default 1 each).

An assignment is in force on D when its contract is active on D and its coverage window contains D
(`coverage.in_force_q`); a contract not active on D therefore uses 0. Over quota when used > quantity;
utilization = used / quantity. A contract without an entitlement has no used figure, no utilization and is never over
quota. With a user, only the assignments (and contracts) and the devices that user may view are counted.

Every figure comes from one SQL statement for any number of contracts: the summed quantities grouped by contract,
and the devices reached per contract through materialized and recursive CTEs (as `coverage.covered_device_ids`
does, keeping the contract of each assignment on every path).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, Sum
from django.db.models.expressions import RawSQL
from nautobot.dcim.models import Device, Location, Rack
from nautobot.tenancy.models import Tenant, TenantGroup

from nautobot_contracts.choices import EntitlementUnitChoices
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.coverage import in_force_q, visible_assignments

UNIT_DEVICES = EntitlementUnitChoices.UNIT_DEVICES
PERCENT_PLACES = Decimal("0.1")
# A contract below this utilization at renewal is flagged as under-utilized (the renewals Job).
UNDER_UTILIZED_PCT = Decimal(50)


def utilization_pct(used, quantity):
    """used / quantity x 100, rounded half-up to one decimal place."""
    return (Decimal(used) * 100 / Decimal(quantity)).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Entitlement:
    """A contract's entitlement on a date: what it buys (quantity, unit) and how much of it is used."""

    quantity: int
    unit: str
    used: int

    @property
    def utilization_pct(self):
        """used / quantity x 100, one decimal place (half-up)."""
        return utilization_pct(self.used, self.quantity)

    @property
    def over_quota(self):
        """More is used than the contract buys."""
        return self.used > self.quantity

    @property
    def under_utilized(self):
        """Less than half of it is used (judged on the unrounded ratio)."""
        return Decimal(self.used) * 100 < UNDER_UTILIZED_PCT * self.quantity

    @property
    def unit_label(self):
        """The unit as shown, e.g. "seats"."""
        return dict(EntitlementUnitChoices.CHOICES).get(self.unit, self.unit).lower()

    def summary(self):
        """E.g. "320 / 500 seats (64.0%)"."""
        return f"{self.used} / {self.quantity} {self.unit_label} ({self.utilization_pct}%)"


def in_force_assignments(as_of, user=None):
    """Assignments (visible to `user`, of contracts `user` may view) in force on `as_of`, of any contract type."""
    return visible_assignments(user).filter(in_force_q(as_of))


def _compiled(queryset):
    """(sql, params) of a queryset, or None when Django knows it matches nothing."""
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


def _device_counts_sql(assignments, user):
    """(sql, params): (contract_id, devices reached) rows for the given in-force assignments, or None.

    The assignments are materialized once; each path to a device keeps the assignment's contract, the location and
    tenant-group trees are walked downwards with recursive CTEs, UNION keeps each (contract, device) pair once, and
    only devices `user` may view are counted.
    """
    covering = _compiled(assignments.values("contract_id", "assigned_object_type_id", "assigned_object_id"))
    devices = _compiled(restrict(Device.objects.all(), user).order_by().values("pk"))
    if covering is None or devices is None:
        return None
    content_types = ContentType.objects.get_for_models(Device, Rack, Location, Tenant, TenantGroup)
    quote = connection.ops.quote_name
    device, location, tenant, group = (quote(model._meta.db_table) for model in (Device, Location, Tenant, TenantGroup))
    # Only quoted table names and Django-compiled SQL are interpolated; every value stays a bound parameter.
    sql = (
        "WITH RECURSIVE covering(contract_id, type_id, object_id) AS MATERIALIZED ("  # noqa: S608
        f"{covering[0]}), "
        "locations(contract_id, id) AS (SELECT contract_id, object_id FROM covering WHERE type_id = %s "
        "UNION SELECT locations.contract_id, node.id "
        f"FROM {location} AS node JOIN locations ON node.parent_id = locations.id), "
        "tenant_groups(contract_id, id) AS (SELECT contract_id, object_id FROM covering WHERE type_id = %s "
        "UNION SELECT tenant_groups.contract_id, node.id "
        f"FROM {group} AS node JOIN tenant_groups ON node.parent_id = tenant_groups.id), "
        "tenants(contract_id, id) AS (SELECT contract_id, object_id FROM covering WHERE type_id = %s "
        "UNION SELECT tenant_groups.contract_id, tenant.id "
        f"FROM {tenant} AS tenant JOIN tenant_groups ON tenant.tenant_group_id = tenant_groups.id), "
        "reached(contract_id, device_id) AS ("
        "SELECT contract_id, object_id FROM covering WHERE type_id = %s "
        "UNION SELECT covering.contract_id, device.id "
        f"FROM {device} AS device JOIN covering ON covering.type_id = %s AND device.rack_id = covering.object_id "
        f"UNION SELECT locations.contract_id, device.id FROM {device} AS device "
        "JOIN locations ON device.location_id = locations.id "
        f"UNION SELECT tenants.contract_id, device.id FROM {device} AS device "
        "JOIN tenants ON device.tenant_id = tenants.id) "
        "SELECT reached.contract_id, COUNT(*) FROM reached "
        f"WHERE reached.device_id IN ({devices[0]}) GROUP BY reached.contract_id"
    )
    type_ids = [content_types[model].pk for model in (Location, TenantGroup, Tenant, Device, Rack)]
    return sql, [*covering[1], *type_ids, *devices[1]]


def used_sql(as_of, contracts, user=None):
    """(sql, params) of the rows (contract_id, used) of the `contracts` (a queryset) that have an entitlement.

    One statement; a contract with nothing in force on `as_of` has no row (it uses 0). None when no row can exist.
    """
    entitled = contracts.filter(quantity__isnull=False).order_by().values("pk")
    in_force = in_force_assignments(as_of, user).order_by()
    parts = []
    devices = _device_counts_sql(in_force.filter(contract__in=entitled.filter(unit=UNIT_DEVICES)), user)
    if devices is not None:
        parts.append(devices)
    summed = _compiled(
        in_force.filter(contract__in=entitled.exclude(unit=UNIT_DEVICES))
        .values("contract_id")
        .annotate(used=Sum("quantity"))
        .values_list("contract_id", "used")
    )
    if summed is not None:
        parts.append(summed)
    if not parts:
        return None
    union = " UNION ALL ".join(f"({sql})" for sql, _ in parts)
    return (
        f"SELECT counted.contract_id, counted.used FROM ({union}) AS counted(contract_id, used)",  # noqa: S608
        [param for _, params in parts for param in params],
    )


def used_by_contract(as_of, contracts, user=None):
    """{contract pk: used} for the `contracts` (a queryset) with an entitlement and something in force; one query."""
    compiled = used_sql(as_of, contracts, user)
    if compiled is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*compiled)
        return {contract_id: int(used) for contract_id, used in cursor.fetchall()}


def entitlements_for(contracts, as_of, user=None):
    """{pk: Entitlement} for the loaded `contracts` that state an entitlement; one query (none if none states one)."""
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    entitled = {contract.pk: contract for contract in contracts if contract.quantity is not None and contract.unit}
    if not entitled:
        return {}
    used = used_by_contract(as_of, Contract.objects.filter(pk__in=list(entitled)), user)
    return {
        pk: Entitlement(quantity=contract.quantity, unit=contract.unit, used=used.get(pk, 0))
        for pk, contract in entitled.items()
    }


def entitlement_for(contract, as_of, user=None):
    """The contract's Entitlement on `as_of`, or None when it states none."""
    return entitlements_for([contract], as_of, user).get(contract.pk)


def over_quota_q(as_of, user=None, queryset=None):
    """Q over Contract: over quota on `as_of` (used > quantity), counting what `user` may view; one subquery.

    `queryset` (default: every contract) bounds the contracts whose use is counted; exclude() it for "not over
    quota", which includes every contract without an entitlement.
    """
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    contracts = Contract.objects.all() if queryset is None else queryset
    compiled = used_sql(as_of, contracts, user)
    if compiled is None:
        return Q(pk__in=[])
    table = connection.ops.quote_name(Contract._meta.db_table)
    sql = (
        f"SELECT used.contract_id FROM ({compiled[0]}) AS used "  # noqa: S608
        f"JOIN {table} AS contract ON contract.id = used.contract_id WHERE used.used > contract.quantity"
    )
    return Q(pk__in=RawSQL(sql, compiled[1]))  # noqa: S611
