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
from django.db.models import BooleanField, ExpressionWrapper, Q
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


def covering_q(as_of, contract_types=None):
    """Q over ContractAssignment: the assignment gives coverage on `as_of` (the one place the rule is written)."""
    return (
        active_on_q(as_of, prefix="contract__")
        & Q(contract__contract_type__in=coverage_contract_types(contract_types))
        & (Q(coverage_start__isnull=True) | Q(coverage_start__lte=as_of))
        & (Q(coverage_end__isnull=True) | Q(coverage_end__gte=as_of))
    )


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


def covered_devices_q(as_of, contract_types=None, user=None):
    """Q over Device: covered on `as_of` by an assignment `user` may view; None when nothing can cover."""
    assignments = covering_assignments(as_of, contract_types, user)
    conditions = [
        Q(pk__in=_target_ids(assignments, Device)),
        Q(rack_id__in=_target_ids(assignments, Rack)),
    ]
    locations = with_descendants(Location, _target_ids(assignments, Location))
    if locations is not None:
        conditions.append(Q(location_id__in=locations))
    tenants = Q(pk__in=_target_ids(assignments, Tenant))
    tenant_groups = with_descendants(TenantGroup, _target_ids(assignments, TenantGroup))
    if tenant_groups is not None:
        tenants |= Q(tenant_group_id__in=tenant_groups)
    conditions.append(Q(tenant_id__in=Tenant.objects.filter(tenants).order_by().values("pk")))
    query = Q()
    for condition in conditions:
        query |= condition
    return query


def _devices(user, queryset):
    return restrict(Device.objects.all() if queryset is None else queryset, user)


def covered_devices(as_of, contract_types=None, user=None, queryset=None):
    """Devices (visible to `user`, within `queryset` if given) covered on `as_of`."""
    return _devices(user, queryset).filter(covered_devices_q(as_of, contract_types, user))


def uncovered_devices(as_of, contract_types=None, user=None, queryset=None):
    """Devices (visible to `user`, within `queryset` if given) without coverage on `as_of`."""
    return _devices(user, queryset).exclude(covered_devices_q(as_of, contract_types, user))


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


def coverage_for(obj, as_of=None, user=None, contract_types=None, covering_only=False):
    """The assignments reaching `obj` (Device, Rack, Location, Circuit, VM, Tenant...), each with source and coverage.

    Whether an entry covers `obj` is judged on `as_of` (default today); covering entries come first.
    Every direct assignment is listed; inherited ones (via rack, location ancestors, tenant, tenant-group ancestors,
    a VM's cluster) only when they cover. `covering_only` keeps just the covering entries. A bounded number of queries:
    one per tree walked plus one for the assignments.
    """
    as_of = as_of or clock.today()
    sources = _sources(obj)
    content_types = ContentType.objects.get_for_models(*{type(target) for _, _, target in sources})
    by_target = {(content_types[type(target)].pk, target.pk): (source, via) for source, via, target in sources}
    targets = Q(pk__in=[])
    for content_type_id, object_id in by_target:
        targets |= Q(assigned_object_type_id=content_type_id, assigned_object_id=object_id)
    assignments = (
        visible_assignments(user)
        .filter(targets)
        .annotate(covers=ExpressionWrapper(covering_q(as_of, contract_types), output_field=BooleanField()))
        .select_related("contract", "contract__provider", "contract__status")
    )
    entries = []
    for assignment in assignments:
        source, via = by_target[(assignment.assigned_object_type_id, assignment.assigned_object_id)]
        if assignment.covers or (source == SOURCE_DIRECT and not covering_only):
            entries.append(CoverageEntry(assignment=assignment, source=source, via=via, covers=assignment.covers))
    entries.sort(key=lambda e: (not e.covers, SOURCE_ORDER.index(e.source), e.contract.name))
    return entries
