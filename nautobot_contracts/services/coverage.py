"""Device contract coverage (docs/user/app-overview.md#coverage), computed set-based.

A Device is covered on date D by an assignment whose contract is active on D, whose own coverage window contains D
and whose contract type counts as coverage, when that assignment targets the device, its rack, its location or any
ancestor of it, its tenant, or its tenant's group or any ancestor of that group.

The whole scan is a single SQL statement: the covering assignments are subqueries, and the location and tenant-group
trees are walked downwards with recursive CTEs, so the number of queries never depends on the number of devices.
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Case, Count, ExpressionWrapper, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from nautobot.dcim.models import Device, Location, Rack
from nautobot.tenancy.models import Tenant, TenantGroup
from nautobot.virtualization.models import VirtualMachine

from nautobot_contracts import clock
from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.terms import active_on_q

SOURCE_DIRECT = "direct"
SOURCE_RACK = "rack"
SOURCE_LOCATION = "location"
SOURCE_CLUSTER = "cluster"
SOURCE_TENANT = "tenant"
SOURCE_TENANT_GROUP = "tenant group"
SOURCE_ORDER = (SOURCE_DIRECT, SOURCE_RACK, SOURCE_CLUSTER, SOURCE_LOCATION, SOURCE_TENANT, SOURCE_TENANT_GROUP)


def coverage_contract_types(contract_types=None):
    """The contract types that count as coverage: the given ones, else the `coverage_contract_types` setting."""
    if contract_types is None:
        contract_types = get_setting("coverage_contract_types")
    return [str(contract_type) for contract_type in contract_types]


def in_force_q(as_of):
    """Q over ContractAssignment: in force on `as_of` (contract active, own coverage window containing the date).

    The one place the rule is written, whatever the contract's type: coverage (below) narrows it by type, cost
    allocation splits over it, entitlements count every assignment in force.
    """
    return (
        active_on_q(as_of, prefix="contract__")
        & (Q(coverage_start__isnull=True) | Q(coverage_start__lte=as_of))
        & (Q(coverage_end__isnull=True) | Q(coverage_end__gte=as_of))
    )


def covering_q(as_of, contract_types=None):
    """Q over ContractAssignment: the assignment gives coverage on `as_of` (in force, of a coverage contract type)."""
    return in_force_q(as_of) & Q(contract__contract_type__in=coverage_contract_types(contract_types))


def visible_assignments(user=None):
    """Assignments `user` may view whose contract `user` may also view (everything when no user is given)."""
    from nautobot_contracts.models import Contract, ContractAssignment  # pylint: disable=import-outside-toplevel

    assignments = restrict(ContractAssignment.objects.all(), user)
    if user is not None and not user.is_superuser:
        assignments = assignments.filter(contract__in=restrict(Contract.objects.all(), user).values("pk"))
    return assignments


def covering_assignments(as_of, contract_types=None, user=None):
    """Assignments (visible to `user`) that give coverage on `as_of`, to whatever object they target."""
    return visible_assignments(user).filter(covering_q(as_of, contract_types))


def _target_ids(assignments, model):
    """Subquery: ids of the `model` objects the given assignments target."""
    content_type = ContentType.objects.get_for_model(model)
    return assignments.filter(assigned_object_type=content_type).order_by().values("assigned_object_id")


def with_descendants(model, seed):
    """Subquery: the ids in `seed` (a one-column queryset of ids) plus all their descendants in `model`'s tree.

    One recursive CTE on the `parent` column; returns None when `seed` is known to be empty (e.g. no permission).
    """
    try:
        seed_sql, params = seed.query.sql_with_params()
    except EmptyResultSet:
        return None
    # Only a quoted table name and Django-compiled SQL are interpolated; every value stays a bound parameter.
    table = connection.ops.quote_name(model._meta.db_table)
    return RawSQL(  # noqa: S611
        "WITH RECURSIVE subtree(id) AS ("  # noqa: S608
        f"SELECT seed.* FROM ({seed_sql}) AS seed "
        f"UNION SELECT node.id FROM {table} AS node JOIN subtree ON node.parent_id = subtree.id"
        ") SELECT id FROM subtree",
        params,
    )


def location_paths(seed, separator=" → "):
    """{location id: "Region → Site → Building"} for the ids in `seed` (a one-column queryset), in one query."""
    try:
        seed_sql, params = seed.query.sql_with_params()
    except EmptyResultSet:
        return {}
    table = connection.ops.quote_name(Location._meta.db_table)
    sql = (
        "WITH RECURSIVE chain(start_id, id, parent_id, name, depth) AS ("  # noqa: S608
        f"SELECT node.id, node.id, node.parent_id, node.name, 0 FROM {table} AS node "
        f"WHERE node.id IN (SELECT seed.* FROM ({seed_sql}) AS seed) "
        "UNION ALL SELECT chain.start_id, node.id, node.parent_id, node.name, chain.depth + 1 "
        f"FROM {table} AS node JOIN chain ON node.id = chain.parent_id"
        ") SELECT start_id, string_agg(name, %s ORDER BY depth DESC) FROM chain GROUP BY start_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, separator])
        return dict(cursor.fetchall())


def covered_device_ids(as_of, contract_types=None, user=None):
    """RawSQL: the ids of the devices covered on `as_of` by assignments `user` may view; None when none can cover.

    One statement. The covering assignments (covering_q, the one place the rule is written) are computed once, as a
    materialized CTE that every way of reaching a device reads: directly, through its rack, its location's
    ancestry (a recursive CTE down the location tree) and its tenant or the tenant's group ancestry (one down the
    group tree). Written as separate subqueries, each of the five re-ran the covering join (docs/dev/performance.md).
    """
    assignments = covering_assignments(as_of, contract_types, user).order_by()
    try:
        covering_sql, params = assignments.values(
            "assigned_object_type_id", "assigned_object_id"
        ).query.sql_with_params()
    except EmptyResultSet:
        return None
    content_types = ContentType.objects.get_for_models(Device, Rack, Location, Tenant, TenantGroup)
    quote = connection.ops.quote_name
    device, location, tenant, group = (quote(model._meta.db_table) for model in (Device, Location, Tenant, TenantGroup))
    # Only quoted table names and Django-compiled SQL are interpolated; every value stays a bound parameter.
    sql = (
        "WITH RECURSIVE covering(type_id, object_id) AS MATERIALIZED ("  # noqa: S608
        f"{covering_sql}), "
        "locations(id) AS (SELECT object_id FROM covering WHERE type_id = %s "
        f"UNION SELECT node.id FROM {location} AS node JOIN locations ON node.parent_id = locations.id), "
        "tenant_groups(id) AS (SELECT object_id FROM covering WHERE type_id = %s "
        f"UNION SELECT node.id FROM {group} AS node JOIN tenant_groups ON node.parent_id = tenant_groups.id), "
        f"tenants(id) AS (SELECT tenant.id FROM {tenant} AS tenant "
        "WHERE tenant.id IN (SELECT object_id FROM covering WHERE type_id = %s) "
        "OR tenant.tenant_group_id IN (SELECT id FROM tenant_groups)) "
        f"SELECT device.id FROM {device} AS device "
        "WHERE device.id IN (SELECT object_id FROM covering WHERE type_id = %s) "
        "OR device.rack_id IN (SELECT object_id FROM covering WHERE type_id = %s) "
        "OR device.location_id IN (SELECT id FROM locations) "
        "OR device.tenant_id IN (SELECT id FROM tenants)"
    )
    type_ids = [content_types[model].pk for model in (Location, TenantGroup, Tenant, Device, Rack)]
    return RawSQL(sql, [*params, *type_ids])  # noqa: S611


def covered_devices_q(as_of, contract_types=None, user=None):
    """Q over Device: covered on `as_of` by an assignment `user` may view (matches nothing when none can cover)."""
    covered = covered_device_ids(as_of, contract_types, user)
    return Q(pk__in=[]) if covered is None else Q(pk__in=covered)


def _devices(user, queryset):
    return restrict(Device.objects.all() if queryset is None else queryset, user)


def covered_devices(as_of, contract_types=None, user=None, queryset=None):
    """Devices (visible to `user`, within `queryset` if given) covered on `as_of`."""
    return _devices(user, queryset).filter(covered_devices_q(as_of, contract_types, user))


def uncovered_devices(as_of, contract_types=None, user=None, queryset=None):
    """Devices (visible to `user`, within `queryset` if given) without coverage on `as_of`."""
    return _devices(user, queryset).exclude(covered_devices_q(as_of, contract_types, user))


def coverage_counts(as_of, contract_types=None, user=None, queryset=None):
    """(covered, uncovered) device counts on `as_of` (visible to `user`, within `queryset`), in one statement."""
    covered = covered_device_ids(as_of, contract_types, user)
    condition = Q(pk__in=[]) if covered is None else Q(pk__in=covered)
    counts = _devices(user, queryset).order_by().aggregate(total=Count("pk"), covered=Count("pk", filter=condition))
    return counts["covered"], counts["total"] - counts["covered"]


# Coverage of one object, for its detail page.


@dataclass
class CoverageEntry:
    """One assignment reaching an object: the contract, how it reaches the object, and whether it covers it."""

    assignment: object
    source: str
    via: object = None  # the rack, location, cluster, tenant or tenant group the assignment targets
    covers: bool = False
    contract: object = field(init=False)

    def __post_init__(self):
        self.contract = self.assignment.contract

    @property
    def is_direct(self):
        """Whether the contract is assigned to the object itself."""
        return self.source == SOURCE_DIRECT

    @property
    def source_label(self):
        """Where the contract comes from: "direct", or e.g. "via location Paris"."""
        return self.source if self.is_direct else f"via {self.source} {self.via}"


def _ancestors(model, start_id):
    """`model` instances from `start_id` up to the root (self first), in one recursive query."""
    if start_id is None:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    sql = (
        "WITH RECURSIVE chain(id, parent_id, depth) AS ("  # noqa: S608
        f"SELECT id, parent_id, 0 FROM {table} WHERE id = %s "
        f"UNION ALL SELECT node.id, node.parent_id, chain.depth + 1 FROM {table} AS node "
        "JOIN chain ON node.id = chain.parent_id"
        f") SELECT node.* FROM {table} AS node JOIN chain ON node.id = chain.id ORDER BY chain.depth"
    )
    return list(model.objects.without_tree_fields().raw(sql, [start_id]))


def _sources(obj):
    """(source, via object, target object) triples whose assignments reach `obj` under the coverage rule."""
    sources = [(SOURCE_DIRECT, None, obj)]
    if isinstance(obj, Location):
        sources += [(SOURCE_LOCATION, node, node) for node in _ancestors(Location, obj.parent_id)]
        return sources
    if isinstance(obj, TenantGroup):
        sources += [(SOURCE_TENANT_GROUP, node, node) for node in _ancestors(TenantGroup, obj.parent_id)]
        return sources
    if isinstance(obj, Device) and obj.rack_id:
        sources.append((SOURCE_RACK, obj.rack, obj.rack))
    if isinstance(obj, VirtualMachine) and obj.cluster_id:
        sources.append((SOURCE_CLUSTER, obj.cluster, obj.cluster))
    if isinstance(obj, (Device, Rack)):
        sources += [(SOURCE_LOCATION, node, node) for node in _ancestors(Location, obj.location_id)]
    tenant = obj if isinstance(obj, Tenant) else getattr(obj, "tenant", None)
    if tenant is not None:
        if tenant is not obj:
            sources.append((SOURCE_TENANT, tenant, tenant))
        sources += [(SOURCE_TENANT_GROUP, node, node) for node in _ancestors(TenantGroup, tenant.tenant_group_id)]
    return sources


def _coverage_queryset(obj, as_of, user, contract_types, covering_only):
    """(assignments reaching `obj` as the panel lists them, most relevant first; {(type id, id): (source, via)})."""
    sources = _sources(obj)
    content_types = ContentType.objects.get_for_models(*{type(target) for _, _, target in sources})
    by_target = {(content_types[type(target)].pk, target.pk): (source, via) for source, via, target in sources}
    targets, direct, rank = Q(pk__in=[]), Q(pk__in=[]), []
    for (content_type_id, object_id), (source, _via) in by_target.items():
        target = Q(assigned_object_type_id=content_type_id, assigned_object_id=object_id)
        targets |= target
        if source == SOURCE_DIRECT:
            direct |= target
        rank.append(When(target, then=Value(SOURCE_ORDER.index(source))))
    covers = covering_q(as_of, contract_types)
    assignments = (
        visible_assignments(user)
        .filter(targets)
        # Every direct assignment is listed; an inherited one only when it covers.
        .filter(covers if covering_only else (covers | direct))
        .annotate(
            covers=ExpressionWrapper(covers, output_field=BooleanField()),
            source_rank=Case(*rank, default=Value(len(SOURCE_ORDER)), output_field=IntegerField()),
        )
        .select_related("contract", "contract__provider", "contract__status")
        .order_by("-covers", "source_rank", "contract__name", "pk")
    )
    return assignments, by_target


def coverage_for(obj, as_of=None, user=None, contract_types=None, covering_only=False, limit=None):
    """The assignments reaching `obj` (Device, Rack, Location, Circuit, VM, Tenant...), each with source and coverage.

    Whether an entry covers `obj` is judged on `as_of` (default today); covering entries come first, then by source
    (direct, rack, cluster, location, tenant, tenant group) and contract name. Every direct assignment is listed;
    inherited ones (via rack, location ancestors, tenant, tenant-group ancestors, a VM's cluster) only when they
    cover. `covering_only` keeps just the covering entries; `limit` keeps the first ones (sorted and cut in SQL).
    A bounded number of queries: one per tree walked plus one for the assignments.
    """
    as_of = as_of or clock.today()
    assignments, by_target = _coverage_queryset(obj, as_of, user, contract_types, covering_only)
    if limit is not None:
        assignments = assignments[:limit]
    entries = []
    for assignment in assignments:
        source, via = by_target[(assignment.assigned_object_type_id, assignment.assigned_object_id)]
        entries.append(CoverageEntry(assignment=assignment, source=source, via=via, covers=assignment.covers))
    return entries


def coverage_page(obj, limit, as_of=None, user=None, contract_types=None):
    """(the first `limit` entries of coverage_for(), the number of entries in all): two queries plus the tree walks."""
    as_of = as_of or clock.today()
    assignments, by_target = _coverage_queryset(obj, as_of, user, contract_types, False)
    rows = list(assignments[: limit + 1])
    total = len(rows) if len(rows) <= limit else assignments.count()
    entries = []
    for assignment in rows[:limit]:
        source, via = by_target[(assignment.assigned_object_type_id, assignment.assigned_object_id)]
        entries.append(CoverageEntry(assignment=assignment, source=source, via=via, covers=assignment.covers))
    return entries, total
