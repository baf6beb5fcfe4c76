"""Benchmark nautobot-contracts on a synthetic data set in its own database.

    .venv/bin/python development/benchmark.py [--scale 1.0] [--db NAME] [--rebuild]   (or: invoke benchmark)

At scale 1 the data set is 100,000 devices in a 3-level location tree of 1,000 sites (2 racks each), 20 tenants in
nested groups, 20,000 contracts in 3 currencies, 60,000 assignments (devices, racks, locations, tenants, tenant groups)
and 200,000 invoices, written with bulk_create in one transaction. Every count scales with --scale (0.01 is a quick
smoke run). The database (default ``nautobot_contracts_bench`` at scale 1, ``..._bench_<scale>`` otherwise) is cloned
from the migrated, empty test database when nobody is connected to it, else created and migrated (~5 minutes), and is
reused when it already holds the data set at the requested scale.

After a bulk load the tables are ANALYZEd (planner statistics, as autovacuum would gather). Every measurement runs
``--repeat`` times (default 3) and one table shows, for each, the median wall-clock seconds, the SQL queries, the rows
it produced and notes: the coverage floor (one hand-written anti-join statement) and the coverage scan against it,
the coverage Job end to end (CSV included), the Contracts panel of the busiest device, the REST lists of 1,000
contracts, assignments and invoices (with ms per row), the money Jobs when they are installed, the renewals Job
with alerts (first run and re-run), the Reconcile invoices Job, the REST list of 1,000 contracts with only the
billing fields, and the cost allocation by location (service and REST). The load average
is printed too: the machine is shared, so compare runs made back to back.
"""

import argparse
import datetime
from decimal import Decimal
import os
from pathlib import Path
import random
import statistics
import subprocess
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "development" / "nautobot_config.py"
TEMPLATE_DB = os.getenv("NAUTOBOT_BENCH_TEMPLATE_DB", "test_nautobot_contracts")
BENCH_DB_PREFIX = "nautobot_contracts_bench"
SEED = 20261121
BATCH = 5000

# The Jobs measured after the coverage Job, looked up by their Meta.name (absent ones are reported as such).
MONEY_JOBS = (
    "Check upcoming renewals",
    "Monthly cost report",
    "Capture cost history snapshot",
    "Detect cost anomalies",
)
COVERAGE_JOB = "Find devices without contract coverage"


# --------------------------------------------------------------------------------------------------------------------
# The data set
# --------------------------------------------------------------------------------------------------------------------


def plan(scale):
    """How many of each object to build at `scale` (1.0 = the 100k-device data set)."""
    sites = max(4, round(1000 * scale))
    cities = max(2, round(sites / 10))
    return {
        "regions": max(1, round(cities / 10)),
        "cities": cities,
        "sites": sites,
        "racks": 2 * sites,
        "devices": max(20, round(100_000 * scale)),
        "tenants": 20,
        "providers": max(3, round(500 * scale)),
        "contracts": max(30, round(20_000 * scale)),
        "assignments": max(60, round(60_000 * scale)),
        "invoices": max(100, round(200_000 * scale)),
    }


def assignment_plan(sizes):
    """[(target kind, index in that kind, contract index)] for every assignment: deterministic, no repeated pair.

    Of every 1,000 assignments 800 go to devices, 100 to racks (the first half of them), 97 to sites (the first
    third), and one each to a city or region (one city in ten, and one region when there are at least five), to one of
    3 tenants, and to a tenant group or its root group; so a realistic share of devices stays uncovered and no object
    gathers hundreds of contracts. The first ten device assignments go to one device, so the panel benchmark renders a
    busy device.
    """
    upper = [("city", j) for j in range(sizes["cities"] // 10)] + ([("region", 0)] if sizes["regions"] >= 5 else [])
    sparse_sites = max(1, sizes["sites"] // 3)
    planned, seen, device_assignments = [], set(), 0
    for i in range(sizes["assignments"]):
        kind = (i * 997) % 1000  # every kind in every run of 1,000, spread out so small scales see most of them
        if kind < 800:
            device_assignments += 1
            target = ("device", 1 if device_assignments <= 10 else (i * 7919) % sizes["devices"])
        elif kind < 900:
            target = ("rack", (i * 104_729) % max(1, sizes["racks"] // 2))
        elif kind < 997 or (kind == 997 and not upper):
            target = ("site", (i * 31) % sparse_sites)
        elif kind == 997:
            target = upper[(i // 1000) % len(upper)]
        elif kind == 998:
            target = ("tenant", (i // 1000) % 3)
        else:
            target = ("group", 3) if (i // 1000) % 2 else ("root group", 1)
        # Shift by one contract per pass over the contracts so that, at full scale, no pair repeats.
        contract_index = (i * 13 + i // sizes["contracts"]) % sizes["contracts"]
        if (target, contract_index) not in seen:
            seen.add((target, contract_index))
            planned.append((*target, contract_index))
    return planned


def _bulk(model, objects):
    model.objects.bulk_create(objects, batch_size=BATCH)
    return objects


def build_dataset(scale=1.0, prefix="bench", today=None):  # pylint: disable=too-many-locals,too-many-statements
    """Write the synthetic data set with bulk_create (call inside a transaction); returns the counts written."""
    # pylint: disable=import-outside-toplevel
    from django.contrib.contenttypes.models import ContentType
    from nautobot.dcim.models import Device, DeviceType, Location, LocationType, Manufacturer, Platform, Rack
    from nautobot.extras.models import Role, Status
    from nautobot.tenancy.models import Tenant, TenantGroup

    from nautobot_contracts.choices import BillingPeriodChoices
    from nautobot_contracts.models import Contract, ContractAssignment, Invoice, ServiceProvider

    rng = random.Random(SEED)  # noqa: S311  # reproducible synthetic data, not security
    from nautobot_contracts import clock

    today = today or clock.today()
    sizes = plan(scale)
    content_type = ContentType.objects.get_for_model

    def status(name, *models):
        obj = Status.objects.get(name=name)
        obj.content_types.add(*(content_type(model) for model in models))
        return obj

    active = status("Active", Location, Rack, Device)

    # Locations: region > city > site; devices and racks live at sites.
    region_type, _ = LocationType.objects.get_or_create(name=f"{prefix} region")
    city_type, _ = LocationType.objects.get_or_create(name=f"{prefix} city", defaults={"parent": region_type})
    site_type, _ = LocationType.objects.get_or_create(name=f"{prefix} site", defaults={"parent": city_type})
    site_type.content_types.add(content_type(Device), content_type(Rack))
    regions = _bulk(
        Location,
        [
            Location(name=f"{prefix}-region-{i}", location_type=region_type, status=active)
            for i in range(sizes["regions"])
        ],
    )
    cities = _bulk(
        Location,
        [
            Location(
                name=f"{prefix}-city-{i}", location_type=city_type, parent=regions[i % len(regions)], status=active
            )
            for i in range(sizes["cities"])
        ],
    )
    sites = _bulk(
        Location,
        [
            Location(name=f"{prefix}-site-{i}", location_type=site_type, parent=cities[i % len(cities)], status=active)
            for i in range(sizes["sites"])
        ],
    )
    racks = _bulk(
        Rack, [Rack(name=f"{prefix}-rack-{i}", location=sites[i // 2], status=active) for i in range(sizes["racks"])]
    )

    # Tenants in two levels of groups.
    roots = _bulk(TenantGroup, [TenantGroup(name=f"{prefix}-group-{i}") for i in range(2)])
    groups = _bulk(
        TenantGroup, [TenantGroup(name=f"{prefix}-group-{i}-{j}", parent=roots[i]) for i in range(2) for j in range(2)]
    )
    tenants = _bulk(
        Tenant,
        [Tenant(name=f"{prefix}-tenant-{i}", tenant_group=groups[i % len(groups)]) for i in range(sizes["tenants"])],
    )

    # Devices: spread over sites, half of them in a rack of their site, half with a tenant.
    manufacturer, _ = Manufacturer.objects.get_or_create(name=f"{prefix} vendor")
    device_type, _ = DeviceType.objects.get_or_create(manufacturer=manufacturer, model=f"{prefix} switch")
    platform, _ = Platform.objects.get_or_create(name=f"{prefix} os")
    role, _ = Role.objects.get_or_create(name=f"{prefix} role")
    role.content_types.add(content_type(Device))
    devices = []
    for i in range(sizes["devices"]):
        site_index = i % len(sites)
        devices.append(
            Device(
                name=f"{prefix}-dev-{i}",
                serial=f"SN{i:08d}",
                device_type=device_type,
                role=role,
                platform=platform if i % 3 else None,
                status=active,
                location=sites[site_index],
                rack=racks[2 * site_index + (i // len(sites)) % 2] if i % 2 else None,
                tenant=tenants[i % len(tenants)] if i % 4 in (0, 1) else None,
            )
        )
    _bulk(Device, devices)

    # Providers and contracts: 3 currencies, a realistic mix of types, statuses, terms and renewal settings.
    providers = _bulk(
        ServiceProvider, [ServiceProvider(name=f"{prefix}-provider-{i}") for i in range(sizes["providers"])]
    )
    contract_statuses = {name: status(name, Contract) for name in ("Active", "Expired", "Pending", "Cancelled")}
    status_weights = (("Active", 75), ("Expired", 10), ("Pending", 8), ("Cancelled", 7))
    type_weights = (
        ("support", 35), ("maintenance", 15), ("warranty", 10), ("license", 12), ("subscription", 10),
        ("circuit", 8), ("colocation", 5), ("managed_service", 5),
    )  # fmt: skip
    periods = [p for p, months in BillingPeriodChoices.MONTHS.items() if months] + [
        BillingPeriodChoices.PERIOD_ONE_TIME
    ]
    contracts = []
    for i in range(sizes["contracts"]):
        start = today - datetime.timedelta(days=rng.randint(0, 1100))
        end = start + datetime.timedelta(days=rng.choice((364, 729, 1094)))
        contracts.append(
            Contract(
                name=f"{prefix}-contract-{i}",
                contract_number=f"{prefix.upper()}-{i:06d}",
                provider=providers[i % len(providers)],
                status=contract_statuses[rng.choices(*zip(*status_weights, strict=True))[0]],
                contract_type=rng.choices(*zip(*type_weights, strict=True))[0],
                start_date=start,
                end_date=end,
                recurring_cost=Decimal(rng.randint(50, 50_000)),
                billing_period=rng.choice(periods),
                one_time_cost=Decimal(rng.choice((0, 0, 0, 1000))),
                currency=("USD", "EUR", "GBP")[i % 3],
                auto_renew=rng.random() < 0.3,
                notice_period_days=rng.choice((None, 30, 60, 90)),
                renewal_term_months=rng.choice((12, 12, 24, 36)),
            )
        )
    _bulk(Contract, contracts)

    # Assignments, as planned by assignment_plan().
    pools = {
        "device": devices, "rack": racks, "site": sites, "city": cities, "region": regions,
        "tenant": tenants, "group": groups, "root group": roots,
    }  # fmt: skip
    assignments = []
    for i, (kind, index, contract_index) in enumerate(assignment_plan(sizes)):
        target, contract = pools[kind][index], contracts[contract_index]
        window = {}
        if i % 10 == 0 and (contract.end_date - contract.start_date).days > 90:
            window = {
                "coverage_start": contract.start_date + datetime.timedelta(days=30),
                "coverage_end": contract.end_date - datetime.timedelta(days=30),
            }
        assignments.append(
            ContractAssignment(
                contract=contract,
                assigned_object_type=content_type(type(target)),
                assigned_object_id=target.pk,
                **window,
            )
        )
    _bulk(ContractAssignment, assignments)

    # Invoices: consecutive monthly bills from each contract's start.
    invoice_statuses = {name: status(name, Invoice) for name in ("Open", "Paid", "Disputed")}
    invoices = []
    per_contract, extra = divmod(sizes["invoices"], len(contracts))
    for c_index, contract in enumerate(contracts):
        for n in range(per_contract + (1 if c_index < extra else 0)):
            period_start = contract.start_date + datetime.timedelta(days=30 * n)
            issued = period_start + datetime.timedelta(days=30)
            paid = rng.random() < 0.8
            invoices.append(
                Invoice(
                    contract=contract,
                    invoice_number=f"{prefix.upper()}-INV-{c_index}-{n}",
                    invoice_date=issued,
                    due_date=issued + datetime.timedelta(days=30),
                    period_start=period_start,
                    period_end=period_start + datetime.timedelta(days=29),
                    amount=contract.recurring_cost,
                    currency=contract.currency,
                    status=invoice_statuses["Paid" if paid else rng.choice(("Open", "Disputed"))],
                    paid_date=issued + datetime.timedelta(days=rng.randint(0, 40)) if paid else None,
                )
            )
    _bulk(Invoice, invoices)

    return {
        **{key: len(value) for key, value in (("regions", regions), ("cities", cities), ("sites", sites))},
        "racks": len(racks),
        "tenants": len(tenants),
        "devices": len(devices),
        "providers": len(providers),
        "contracts": len(contracts),
        "assignments": len(assignments),
        "invoices": len(invoices),
    }


# --------------------------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------------------------


class Measure:
    """Time a block and count its SQL queries on every database connection; set `rows` (and `note`) after it.

    Each measurement block in run_measurements() is self-contained::

        with Measure("REST list: 1,000 widgets") as measure:
            response = client.get(url)
        measure.rows = len(response.json()["results"])
        results.append(measure)
    """

    def __init__(self, label):
        self.label = label
        self.seconds = None
        self.queries = None
        self.rows = None
        self.note = ""

    def __enter__(self):
        # pylint: disable=import-outside-toplevel
        from django.db import connections
        from django.test.utils import CaptureQueriesContext

        self._contexts = [CaptureQueriesContext(connections[alias]) for alias in connections]
        for context in self._contexts:
            context.__enter__()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        for context in self._contexts:
            context.__exit__(*exc)
        self.queries = sum(len(context) for context in self._contexts)
        return False


# The coverage floor: the uncovered-device count as one hand-written anti-join statement (no ORM, no permissions),
# the same rule as services/coverage.py written independently. The scan is judged against it (target: within 3x).
COVERAGE_FLOOR_SQL = """
WITH RECURSIVE covering(type_id, object_id) AS MATERIALIZED (
    SELECT a.assigned_object_type_id, a.assigned_object_id
    FROM nautobot_contracts_contractassignment a
    JOIN nautobot_contracts_contract c ON c.id = a.contract_id
    JOIN extras_status s ON s.id = c.status_id
    WHERE s.name = 'Active' AND c.start_date <= %(day)s AND (c.end_date >= %(day)s OR c.auto_renew)
      AND c.contract_type = ANY(%(types)s)
      AND (a.coverage_start IS NULL OR a.coverage_start <= %(day)s)
      AND (a.coverage_end IS NULL OR a.coverage_end >= %(day)s)
), locations(id) AS (
    SELECT object_id FROM covering WHERE type_id = %(location)s
    UNION SELECT l.id FROM dcim_location l JOIN locations ON l.parent_id = locations.id
), tenant_groups(id) AS (
    SELECT object_id FROM covering WHERE type_id = %(group)s
    UNION SELECT g.id FROM tenancy_tenantgroup g JOIN tenant_groups ON g.parent_id = tenant_groups.id
), tenants(id) AS (
    SELECT t.id FROM tenancy_tenant t
    WHERE t.id IN (SELECT object_id FROM covering WHERE type_id = %(tenant)s)
       OR t.tenant_group_id IN (SELECT id FROM tenant_groups)
)
SELECT count(*) FROM dcim_device d
WHERE NOT EXISTS (SELECT 1 FROM covering WHERE type_id = %(device)s AND object_id = d.id)
  AND NOT EXISTS (SELECT 1 FROM covering WHERE type_id = %(rack)s AND object_id = d.rack_id)
  AND NOT EXISTS (SELECT 1 FROM locations WHERE id = d.location_id)
  AND NOT EXISTS (SELECT 1 FROM tenants WHERE id = d.tenant_id)
"""


def coverage_floor(today):
    """Run COVERAGE_FLOOR_SQL; returns the uncovered count."""
    # pylint: disable=import-outside-toplevel
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from nautobot.dcim.models import Device, Location, Rack
    from nautobot.tenancy.models import Tenant, TenantGroup

    from nautobot_contracts.services import coverage

    types = ContentType.objects.get_for_models(Device, Rack, Location, Tenant, TenantGroup)
    params = {
        "day": today,
        "types": coverage.coverage_contract_types(),
        "device": types[Device].pk,
        "rack": types[Rack].pk,
        "location": types[Location].pk,
        "tenant": types[Tenant].pk,
        "group": types[TenantGroup].pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(COVERAGE_FLOOR_SQL, params)
        return cursor.fetchone()[0]


def _job_kwargs(job_class, data=None):
    """The job kwargs the Jobs UI/REST would send for `data`: validated by the job's form, then serialized."""
    return job_class.serialize_data(job_class.validate_data(data or {}))


def _job_model(job_class):
    """The enabled Job record for `job_class` (created if the database predates the Job)."""
    # pylint: disable=import-outside-toplevel
    from nautobot.extras.models import Job as JobModel
    from nautobot.extras.utils import refresh_job_model_from_job_class

    job_model = JobModel.objects.filter(module_name=job_class.__module__, job_class_name=job_class.__name__).first()
    if job_model is None:
        job_model, _ = refresh_job_model_from_job_class(JobModel, job_class)
    if not job_model.enabled:
        job_model.enabled = True
        job_model.save()
    return job_model


def _run_job(label, job_class, user, data=None):
    """Run a Job end to end as a worker would; the note says how many queries went to its log lines."""
    # pylint: disable=import-outside-toplevel
    from nautobot.extras.choices import JobResultStatusChoices
    from nautobot.extras.models import JobLogEntry, JobResult

    job_model = _job_model(job_class)
    kwargs = _job_kwargs(job_class, data)
    with Measure(label) as measure:
        job_result = JobResult.execute_job(job_model, user, job_kwargs=kwargs)
    job_result.refresh_from_db()
    if job_result.status != JobResultStatusChoices.STATUS_SUCCESS:
        measure.note = f"status {job_result.status}: {(job_result.traceback or '').strip().splitlines()[-1:]}"
    else:
        # Lines written through self.logger cost two queries each; ContractsJob.log_lines bulk-inserts them.
        measure.note = f"{JobLogEntry.objects.filter(job_result=job_result).count()} log lines"
    return measure, job_result


def find_jobs():
    """{Meta.name: job class} for the app's registered Jobs."""
    from nautobot_contracts import jobs  # pylint: disable=import-outside-toplevel

    return {job_class.name: job_class for job_class in jobs.jobs}


def run_measurements(user, today=None):  # pylint: disable=too-many-locals,too-many-statements
    """Run every measurement as `user` (a superuser); returns the Measure objects in table order.

    Each block below is self-contained (imports, a `with Measure(label)`, rows/note, results.append), so branches
    can add their own blocks without touching the others.
    """
    # pylint: disable=import-outside-toplevel
    from django.contrib.contenttypes.models import ContentType
    from nautobot.dcim.models import Device, Location, Rack
    from nautobot.tenancy.models import Tenant, TenantGroup

    from nautobot_contracts import clock

    today = today or clock.today()
    results = []
    # Load the content types once (a process-wide cache), so the first measurement counts only its own queries.
    ContentType.objects.get_for_models(Device, Rack, Location, Tenant, TenantGroup)

    # The floor the coverage scan is judged against (see COVERAGE_FLOOR_SQL).
    with Measure("Coverage floor: one anti-join statement (uncovered count)") as measure:
        floor_uncovered = coverage_floor(today)
    measure.rows = floor_uncovered
    measure.note = f"{floor_uncovered} uncovered"
    results.append(measure)
    floor = measure

    from nautobot_contracts.services import coverage

    with Measure("Coverage scan (covered + uncovered counts)") as measure:
        if hasattr(coverage, "coverage_counts"):
            covered, uncovered = coverage.coverage_counts(today, user=user)
        else:  # code before coverage_counts (to measure it with this script)
            covered = coverage.covered_devices(today, user=user).count()
            uncovered = coverage.uncovered_devices(today, user=user).count()
    measure.rows = covered + uncovered
    ratio = f"{measure.seconds / floor.seconds:.1f}x the floor" if floor.seconds else ""
    agrees = "" if uncovered == floor_uncovered else f"; MISMATCH: floor says {floor_uncovered} uncovered"
    measure.note = f"{covered} covered, {uncovered} uncovered; {ratio}{agrees}"
    results.append(measure)

    jobs = find_jobs()
    measure, job_result = _run_job("Coverage Job end to end (CSV included)", jobs[COVERAGE_JOB], user)
    if job_result.result:
        measure.rows = job_result.result.get("uncovered")
        measure.note = f"{measure.rows} uncovered in CSV; {measure.note}"
    results.append(measure)

    # The device with the most contracts reaching it (assigned directly; it also inherits through rack, site, tenant).
    from django.db.models import Count
    from django.template import Context
    from django.test import RequestFactory

    from nautobot_contracts.models import ContractAssignment
    from nautobot_contracts.template_content import ContractCoveragePanel

    device_type = ContentType.objects.get_for_model(Device)
    busiest = (
        ContractAssignment.objects.filter(assigned_object_type=device_type)
        .values("assigned_object_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "assigned_object_id")
        .first()
    )
    device = Device.objects.get(pk=busiest["assigned_object_id"])
    request = RequestFactory().get("/")
    request.user = user
    with Measure("Contracts panel of one device (render)") as measure:
        context = Context({"object": device, "request": request})
        ContractCoveragePanel().render(context)
    if hasattr(coverage, "coverage_page"):
        entries, total = coverage.coverage_page(device, ContractCoveragePanel.max_rows, as_of=today, user=user)
    else:  # code before the panel was capped (to measure it with this script)
        entries = coverage.coverage_for(device, as_of=today, user=user)
        total = len(entries)
    measure.rows = len(entries)
    measure.note = f"{len(entries)} of {total} contracts shown"
    results.append(measure)

    from django.urls import reverse
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    for label, route in (
        ("REST list: 1,000 contracts", "plugins-api:nautobot_contracts-api:contract-list"),
        ("REST list: 1,000 assignments", "plugins-api:nautobot_contracts-api:contractassignment-list"),
        ("REST list: 1,000 invoices", "plugins-api:nautobot_contracts-api:invoice-list"),
    ):
        url = f"{reverse(route)}?limit=1000"
        with Measure(label) as measure:
            response = client.get(url, HTTP_ACCEPT="application/json")
        measure.rows = len(response.json().get("results", []))
        measure.note = f"HTTP {response.status_code}, {len(response.content):,} bytes"
        results.append(measure)

    # Dashboard (server time): the whole page, rendered through Django's test client as `user` (all figures, panels
    # and charts); the target is under 1 s at scale 1 with a query count that does not depend on the data size.
    from django.test import Client  # pylint: disable=import-outside-toplevel

    dashboard_client = Client()
    dashboard_client.force_login(user)
    dashboard_url = f"{reverse('plugins:nautobot_contracts:dashboard')}?as_of={today.isoformat()}"
    dashboard_client.get(dashboard_url)  # warm the session, permissions and templates once
    with Measure("Dashboard (server time)") as measure:
        response = dashboard_client.get(dashboard_url)
    measure.note = f"HTTP {response.status_code}, {len(response.content) // 1024} KiB"
    results.append(measure)

    for name in MONEY_JOBS:
        if name not in jobs:
            missing = Measure(f"Job: {name}")
            missing.note = "not installed"
            results.append(missing)
            continue
        measure, _ = _run_job(f"Job: {name}", jobs[name], user)
        results.append(measure)

    # Renewal alerts (issue 9): the renewals Job writes its alerts in bulk, so a first run (every due contract gets an
    # alert) and a re-run (nothing changes) both stay within a fixed number of queries. Alerts from the run above are
    # cleared first so the first run really creates them (this is the benchmark's own database).
    if "Check upcoming renewals" in jobs:
        from nautobot_contracts.models import ContractAlert

        ContractAlert.objects.filter(kind="renewal_notice").delete()
        for label in ("first run", "re-run"):
            measure, job_result = _run_job(
                f"Job: Check upcoming renewals (with alerts, {label})",
                jobs["Check upcoming renewals"],
                user,
                {"as_of": today.isoformat()},
            )
            alerts = (job_result.result or {}).get("alerts")
            if alerts is not None:
                measure.note = f"alerts {alerts}; {measure.note}"
            results.append(measure)
    # Billing (issue 11): the reconciliation Job over every contract and invoice, and the contract REST list with
    # only the computed billing fields (two queries for the page whatever its size).
    billing_job = "Reconcile invoices"
    if billing_job in jobs:
        measure, job_result = _run_job(f"Job: {billing_job}", jobs[billing_job], user)
        if job_result.result:
            result = job_result.result
            measure.note = (
                f"{result.get('contracts_checked')} contracts, {result.get('periods_checked')} periods, "
                f"{result.get('missing')} missing; {measure.note}"
            )
        results.append(measure)
    billing_fields = "id,name,expected_to_date,invoiced_to_date,variance_to_date,missing_periods"
    url = f"{reverse('plugins-api:nautobot_contracts-api:contract-list')}?limit=1000&fields={billing_fields}"
    with Measure("REST list: 1,000 contracts, billing fields") as measure:
        response = client.get(url, HTTP_ACCEPT="application/json")
    measure.note = f"HTTP {response.status_code}, {len(response.json().get('results', []))} rows"
    results.append(measure)

    # Cost allocation (issue 12): every active contract's monthly cost split over its assignments in force, rolled up
    # the location tree; the service call and the REST endpoint (target: each under 1 s, queries independent of size).
    from nautobot_contracts.services import allocation

    if hasattr(allocation, "allocation"):
        with Measure("Cost allocation by location (service)") as measure:
            allocated = allocation.allocation(today, allocation.GROUP_BY_LOCATION, user=user)
        measure.rows = len(allocated.rows)
        measure.note = f"{len(allocated.rows)} rows; target < 1 s"
        results.append(measure)
        url = f"{reverse('plugins-api:nautobot_contracts-api:cost-allocation')}?group_by=location&as_of={today}"
        with Measure("REST: cost allocation by location") as measure:
            response = client.get(url, HTTP_ACCEPT="application/json")
        measure.rows = len(response.json().get("rows", []))
        measure.note = f"HTTP {response.status_code}, {len(response.content):,} bytes; target < 1 s"
        results.append(measure)
    return results


def median_results(runs):
    """One Measure per label from several runs of run_measurements(): median seconds, last queries/rows/note."""
    merged = []
    for measures in zip(*runs, strict=True):
        last = measures[-1]
        median = Measure(last.label)
        timed = [m.seconds for m in measures if m.seconds is not None]
        median.seconds = statistics.median(timed) if timed else None
        median.queries, median.rows, median.note = last.queries, last.rows, last.note
        if len(timed) > 1:
            median.note = f"{median.note}; median of {len(timed)} (min {min(timed):.3f})".lstrip("; ")
        merged.append(median)
    return merged


def format_table(results):
    """The measurements as one fixed-width text table: seconds, queries, rows and notes."""
    width = max(len(m.label) for m in results)
    header = f"{'Measurement':<{width}}  {'Seconds':>8}  {'Queries':>7}  {'Rows':>7}  {'ms/row':>7}  Notes"
    lines = [header, "-" * (len(header) + 40)]
    for m in results:
        seconds = f"{m.seconds:8.3f}" if m.seconds is not None else f"{'-':>8}"
        queries = f"{m.queries:7d}" if m.queries is not None else f"{'-':>7}"
        rows = f"{m.rows:7d}" if m.rows is not None else f"{'-':>7}"
        per_row = f"{1000 * m.seconds / m.rows:7.3f}" if m.rows and m.seconds is not None else f"{'-':>7}"
        lines.append(f"{m.label:<{width}}  {seconds}  {queries}  {rows}  {per_row}  {m.note}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------------
# The benchmark database
# --------------------------------------------------------------------------------------------------------------------


def default_db_name(scale):
    """nautobot_contracts_bench at scale 1, nautobot_contracts_bench_0_01 at 0.01, ..."""
    if scale == 1:
        return BENCH_DB_PREFIX
    return f"{BENCH_DB_PREFIX}_{str(scale).replace('.', '_')}"


def _connect(dbname):
    import psycopg2  # pylint: disable=import-outside-toplevel

    return psycopg2.connect(
        host=os.getenv("NAUTOBOT_DB_HOST", "127.0.0.1"),
        port=os.getenv("NAUTOBOT_DB_PORT", "5432"),
        user=os.getenv("NAUTOBOT_DB_USER", "postgres"),
        password=os.getenv("NAUTOBOT_DB_PASSWORD", ""),
        dbname=dbname,
        connect_timeout=10,
    )


def prepare_database(name, rebuild=False):
    """Make sure database `name` exists and is migrated; returns the (devices, assignments) it already holds."""
    import psycopg2  # pylint: disable=import-outside-toplevel
    from psycopg2 import sql  # pylint: disable=import-outside-toplevel

    if not name.startswith(BENCH_DB_PREFIX):
        raise SystemExit(f"Refusing to use {name!r}: benchmark databases are named {BENCH_DB_PREFIX}*.")
    conn = _connect("postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if exists and rebuild:
                print(f"Dropping {name} (--rebuild) ...", flush=True)
                cursor.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
                exists = False
            if not exists:
                _create_database(cursor, name, psycopg2, sql)
    finally:
        conn.close()
    print(f"Migrating {name} (applies anything new; ~5 minutes on an empty database) ...", flush=True)
    env = {**os.environ, "NAUTOBOT_DB_NAME": name}
    command = [str(Path(sys.executable).parent / "nautobot-server"), "--config", str(CONFIG), "migrate", "--no-input"]
    subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    with _connect(name) as bench, bench.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dcim_device WHERE name LIKE %s", ["bench-dev-%"])
        devices = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM nautobot_contracts_contractassignment")
        return devices, cursor.fetchone()[0]


def _create_database(cursor, name, psycopg2, sql):
    """Clone the migrated test database when nobody uses it (seconds), else create an empty one to migrate."""
    for attempt in range(5):
        try:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE_DB))
            )
            print(f"Created {name} from {TEMPLATE_DB}.", flush=True)
            return
        except psycopg2.errors.InvalidCatalogName:
            break  # no template database
        except psycopg2.errors.ObjectInUse:
            print(f"{TEMPLATE_DB} is in use; retrying ({attempt + 1}/5) ...", flush=True)
            time.sleep(3)
    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"Created an empty {name}.", flush=True)


def analyze():
    """Refresh PostgreSQL's planner statistics after the bulk load (autovacuum would, later, in production).

    Without them the planner takes every freshly loaded table for nearly empty and picks nested loops.
    """
    from django.db import connection  # pylint: disable=import-outside-toplevel

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def setup_nautobot(db_name):
    """Configure Nautobot (and Django) against the benchmark database, as nautobot-server would."""
    os.environ["NAUTOBOT_DB_NAME"] = db_name
    os.environ.setdefault("NAUTOBOT_ROOT", str(ROOT / ".local" / "nautobot"))
    import nautobot  # pylint: disable=import-outside-toplevel

    nautobot.setup(config_path=str(CONFIG))


def main(argv=None):
    """Prepare the database, build or reuse the data set, run the measurements, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k devices (default); 0.01 for a quick run")
    parser.add_argument("--db", default=None, help="benchmark database name (default depends on the scale)")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the benchmark database first")
    parser.add_argument("--repeat", type=int, default=3, help="run every measurement this many times (median shown)")
    args = parser.parse_args(argv)
    db_name = args.db or default_db_name(args.scale)
    sizes = plan(args.scale)
    expected = sizes["devices"], len(assignment_plan(sizes))

    existing = prepare_database(db_name, rebuild=args.rebuild)
    if existing not in ((0, 0), expected):
        raise SystemExit(
            f"{db_name} holds {existing[0]} benchmark devices and {existing[1]} assignments, not {expected[0]} and "
            f"{expected[1]}: use --rebuild (drops and rebuilds that benchmark database) or another --db."
        )
    setup_nautobot(db_name)

    # pylint: disable=import-outside-toplevel
    from django.contrib.auth import get_user_model
    from django.db import transaction

    if existing == (0, 0):
        print(f"Building the data set at scale {args.scale} in {db_name} ...", flush=True)
        started = time.perf_counter()
        with transaction.atomic():
            counts = build_dataset(args.scale)
        print(f"Built in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
        analyze()
    else:
        print(f"Reusing the data set in {db_name} ({existing[0]} devices, {existing[1]} assignments).", flush=True)

    user, _ = get_user_model().objects.get_or_create(
        username="benchmark", defaults={"is_superuser": True, "is_staff": True}
    )
    load = os.getloadavg()
    results = median_results([run_measurements(user) for _ in range(max(1, args.repeat))])
    print()
    print(f"nautobot-contracts benchmark, scale {args.scale} ({expected[0]} devices), database {db_name}")
    import nautobot_contracts  # pylint: disable=import-outside-toplevel

    print(f"Code measured: {Path(nautobot_contracts.__file__).parent}")
    print(f"Load average before/after: {load}, {os.getloadavg()}")
    print(format_table(results))


if __name__ == "__main__":
    main()
