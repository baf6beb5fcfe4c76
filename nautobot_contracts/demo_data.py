"""The loader of the demo data set (`nautobot_contracts.demo_dataset`) for `nautobot-server load_contracts_demo_data`.

Every object is matched on its natural key and created only when missing. Contract terms, invoice dates and coverage
windows are laid out relative to the day of each run: a re-run on a later day moves them (so a long-lived dev database
keeps every renewal tier populated), and a re-run on the same day changes nothing. A year of monthly cost snapshots is
written through the app's snapshot service (`services.snapshots`), only for the dates that have none.
"""

from collections import Counter
import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from nautobot.circuits.models import Circuit, CircuitTermination, CircuitType, Provider
from nautobot.dcim.models import Device, DeviceType, Location, LocationType, Manufacturer, Rack
from nautobot.extras.models import Role, Status
from nautobot.tenancy.models import Tenant, TenantGroup

from nautobot_contracts import clock
from nautobot_contracts.demo_dataset import (  # noqa: F401 (re-exported for callers of the old module)
    ASSIGNMENT_DETAILS,
    ASSIGNMENTS,
    BUDGETS,
    CIRCUIT_PROVIDERS,
    CIRCUITS,
    CONTRACT_ATTACHMENTS,
    CONTRACTS,
    DEVICE_TYPES,
    DEVICES,
    ENTITLEMENTS,
    EXCHANGE_RATES,
    INVOICE_ATTACHMENTS,
    INVOICES,
    LOCATIONS,
    PROVIDERS,
    ROLES,
    TENANT_GROUPS,
    TENANTS,
    minimal_pdf,
)
from nautobot_contracts.models import (
    Budget,
    Contract,
    ContractAssignment,
    ContractAttachment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)
from nautobot_contracts.services.budgets import fiscal_year_of
from nautobot_contracts.services.coverage import uncovered_devices
from nautobot_contracts.services.money import round_money
from nautobot_contracts.services.snapshots import snapshot_rows, write_snapshot
from nautobot_contracts.services.terms import active_contracts, billing_months, renewal_tier

# --------------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------------


# Fields that follow today on every run (everything else is created once and left alone).
CONTRACT_DATES = ["start_date", "end_date"]
INVOICE_DATES = ["invoice_date", "due_date", "period_start", "period_end", "paid_date"]
SNAPSHOT_MONTHS = 12


class DemoDataLoader:
    """Create whatever of the demo data set is missing; `created` counts new objects per model."""

    def __init__(self, today=None):
        """`today` anchors the term dates of contracts created by this run."""
        self.today = today or clock.today()
        self.created = Counter()
        self.moved = Counter()
        self._statuses = {}
        self._bound = set()

    # -- helpers ------------------------------------------------------------------------------------------------------

    def ensure(self, model, rows, key, moving=()):
        """Return one object per row (a dict of field values), creating only the rows whose `key` fields match nothing.

        Existing objects are found with one query per call; of those, only the date fields in `moving` (which follow
        today) are updated, validated and written in one bulk update, and only when they differ.
        """
        fields = [model._meta.get_field(name) for name in key]

        def row_key(row):
            return tuple(row[f.name].pk if f.is_relation and row[f.name] is not None else row[f.name] for f in fields)

        def object_key(obj):
            return tuple(getattr(obj, f.attname) for f in fields)

        query = Q(pk__in=[])
        for row in rows:
            query |= Q(**{f.name: row[f.name] for f in fields})
        existing = {object_key(obj): obj for obj in model.objects.filter(query)} if rows else {}
        result, changed = [], []
        for row in rows:
            obj = existing.get(row_key(row))
            if obj is None:
                obj = model(**row)
                obj.validated_save()
                existing[row_key(row)] = obj
                self.created[model._meta.label] += 1
            elif any(getattr(obj, name) != row[name] for name in moving):
                for name in moving:
                    setattr(obj, name, row[name])
                obj.full_clean(validate_unique=False)  # the model's rules hold for the moved dates too
                changed.append(obj)
            result.append(obj)
        if changed:
            model.objects.bulk_update(changed, list(moving))
            self.moved[model._meta.label] += len(changed)
        return result

    def status(self, model, name):
        """The named Status, bound to `model` if it is not yet (statuses are loaded once, with their content types)."""
        if not self._statuses:
            names = {"Active", *(spec[2] for spec in CONTRACTS.values())}
            names.update(status for entries in INVOICES.values() for _, status in entries)
            statuses = Status.objects.filter(name__in=names).prefetch_related("content_types")
            self._statuses = {status.name: status for status in statuses}
        status = self._statuses[name]
        content_type = ContentType.objects.get_for_model(model)
        if (name, content_type.pk) not in self._bound:
            if content_type not in status.content_types.all():
                status.content_types.add(content_type)
            self._bound.add((name, content_type.pk))
        return status

    @staticmethod
    def bind_content_types(objects, *models):
        """Allow `models` on each object's content_types (LocationType, Role), adding only what is missing."""
        wanted = {ContentType.objects.get_for_model(model) for model in models}
        model = type(objects[0])
        for obj in model.objects.filter(pk__in=[o.pk for o in objects]).prefetch_related("content_types"):
            missing = wanted - set(obj.content_types.all())
            if missing:
                obj.content_types.add(*missing)

    def day(self, offset):
        """The date `offset` days from today."""
        return self.today + datetime.timedelta(days=offset)

    # -- core objects -------------------------------------------------------------------------------------------------

    def load_core(self):
        """Locations, racks, device types, roles, devices, tenants, circuit providers and circuits."""
        (region_type,) = self.ensure(LocationType, [{"name": "Region", "parent": None}], ["name"])
        (city_type,) = self.ensure(LocationType, [{"name": "City", "parent": region_type}], ["name"])
        (site_type,) = self.ensure(LocationType, [{"name": "Site", "parent": city_type}], ["name"])
        self.bind_content_types([site_type], Device, Rack, CircuitTermination)

        active_location = self.status(Location, "Active")
        regions = self.ensure(
            Location,
            [
                {"name": name, "parent": None, "location_type": region_type, "status": active_location}
                for name in LOCATIONS
            ],
            ["parent", "name"],
        )
        self.locations = {loc.name: loc for loc in regions}
        city_rows = [
            {"name": city, "parent": self.locations[region], "location_type": city_type, "status": active_location}
            for region, cities in LOCATIONS.items()
            for city in cities
        ]
        self.locations.update({loc.name: loc for loc in self.ensure(Location, city_rows, ["parent", "name"])})
        site_rows = [
            {"name": site, "parent": self.locations[city], "location_type": site_type, "status": active_location}
            for cities in LOCATIONS.values()
            for city, sites in cities.items()
            for site in sites
        ]
        self.locations.update({loc.name: loc for loc in self.ensure(Location, site_rows, ["parent", "name"])})

        active_rack = self.status(Rack, "Active")
        rack_rows = [
            {"name": rack, "location": self.locations[site], "status": active_rack, "u_height": 42}
            for cities in LOCATIONS.values()
            for sites in cities.values()
            for site, racks in sites.items()
            for rack in racks
        ]
        racks = self.ensure(Rack, rack_rows, ["location", "name"])
        self.racks = {f"{row['location'].name}/{row['name']}": rack for row, rack in zip(rack_rows, racks, strict=True)}

        manufacturers = self.ensure(
            Manufacturer, [{"name": name} for name in sorted({m for m, _, _ in DEVICE_TYPES.values()})], ["name"]
        )
        by_name = {m.name: m for m in manufacturers}
        device_types = self.ensure(
            DeviceType,
            [
                {"manufacturer": by_name[manufacturer], "model": model, "u_height": height}
                for manufacturer, model, height in DEVICE_TYPES.values()
            ],
            ["manufacturer", "model"],
        )
        self.device_types = dict(zip(DEVICE_TYPES, device_types, strict=True))
        roles = self.ensure(Role, [{"name": name, "color": color} for name, color in ROLES.values()], ["name"])
        self.bind_content_types(roles, Device)
        self.roles = dict(zip(ROLES, roles, strict=True))

        roots = [{"name": name, "parent": None} for name, parent in TENANT_GROUPS.items() if parent is None]
        groups = {g.name: g for g in self.ensure(TenantGroup, roots, ["name"])}
        children = [{"name": name, "parent": groups[parent]} for name, parent in TENANT_GROUPS.items() if parent]
        groups.update({g.name: g for g in self.ensure(TenantGroup, children, ["name"])})
        self.tenant_groups = groups
        tenants = self.ensure(
            Tenant, [{"name": name, "tenant_group": groups[group]} for name, group in TENANTS.items()], ["name"]
        )
        self.tenants = {t.name: t for t in tenants}

        active_device = self.status(Device, "Active")
        device_rows = []
        for site, groups_ in DEVICES.items():
            next_unit = {}
            for suffix, type_key, role_key, count, rack_name, tenant in groups_:
                device_type = self.device_types[type_key]
                for number in range(1, count + 1):
                    row = {
                        "name": f"{site.lower()}-{suffix}-{number:02d}",
                        "device_type": device_type,
                        "role": self.roles[role_key],
                        "location": self.locations[site],
                        "tenant": self.tenants.get(tenant),
                        "status": active_device,
                        "rack": None,
                    }
                    if rack_name:
                        rack = self.racks[f"{site}/{rack_name}"]
                        unit = next_unit.get(rack_name, 1)
                        next_unit[rack_name] = unit + device_type.u_height
                        row.update(rack=rack, position=unit, face="front")
                    device_rows.append(row)
        self.devices = {d.name: d for d in self.ensure(Device, device_rows, ["name"])}

        circuit_providers = self.ensure(Provider, [{"name": name} for name in CIRCUIT_PROVIDERS], ["name"])
        self.circuit_providers = {p.name: p for p in circuit_providers}
        circuit_types = self.ensure(
            CircuitType, [{"name": name} for name in sorted({t for _, _, t in CIRCUITS})], ["name"]
        )
        types_by_name = {t.name: t for t in circuit_types}
        active_circuit = self.status(Circuit, "Active")
        circuits = self.ensure(
            Circuit,
            [
                {
                    "provider": self.circuit_providers[provider],
                    "cid": cid,
                    "circuit_type": types_by_name[circuit_type],
                    "status": active_circuit,
                }
                for provider, cid, circuit_type in CIRCUITS
            ],
            ["provider", "cid"],
        )
        self.circuits = {c.cid: c for c in circuits}

    # -- the app's objects --------------------------------------------------------------------------------------------

    def load_providers(self):
        """Service providers, the carriers among them linked to their circuit provider."""
        rows = [
            {
                "name": name,
                "account_number": account,
                "portal_url": portal,
                "support_email": email,
                "circuit_provider": self.circuit_providers.get(circuit_provider),
                "description": description,
            }
            for name, (account, portal, email, circuit_provider, description) in PROVIDERS.items()
        ]
        self.providers = {p.name: p for p in self.ensure(ServiceProvider, rows, ["name"])}

    def contract_number(self, name):
        """A stable contract number: the provider's account number and the contract's rank among its contracts."""
        provider = CONTRACTS[name][0]
        rank = [n for n, spec in CONTRACTS.items() if spec[0] == provider].index(name) + 1
        return f"{PROVIDERS[provider][0]}-{rank:03d}"

    def load_contracts(self):
        """Contracts in three currencies, every billing period, type and status."""
        rows = []
        for name, spec in CONTRACTS.items():
            provider, ctype, status, currency, period, recurring, one_time, start, end, auto, notice, tenant = spec
            rows.append(
                {
                    "provider": self.providers[provider],
                    "name": name,
                    "contract_number": self.contract_number(name),
                    "contract_type": ctype,
                    "status": self.status(Contract, status),
                    "currency": currency,
                    "billing_period": period,
                    "recurring_cost": Decimal(recurring),
                    "one_time_cost": Decimal(one_time),
                    "start_date": self.day(start),
                    "end_date": self.day(end),
                    "auto_renew": auto,
                    "notice_period_days": notice,
                    "renewal_term_months": 12,
                    "tenant": self.tenants.get(tenant),
                    "cost_center": f"CC-{(tenant or 'Shared IT').upper().replace(' ', '-')}",
                    "description": f"{ctype.replace('_', ' ').capitalize()} with {provider}",
                    "quantity": ENTITLEMENTS.get(name, (None, ""))[0],
                    "unit": ENTITLEMENTS.get(name, (None, ""))[1],
                }
            )
        # Coverage windows must lie inside the term: clear those of contracts about to move (load_assignments sets
        # them again, relative to the moved term), or validating the moved term would refuse it.
        wanted = {(row["provider"].pk, row["name"]): (row["start_date"], row["end_date"]) for row in rows}
        stored = Contract.objects.filter(name__in=CONTRACTS).values_list("pk", "provider_id", "name", *CONTRACT_DATES)
        moving = [
            pk for pk, provider, name, *dates in stored if wanted.get((provider, name), tuple(dates)) != tuple(dates)
        ]
        if moving:
            ContractAssignment.objects.filter(contract__in=moving).update(coverage_start=None, coverage_end=None)
        contracts = self.ensure(Contract, rows, ["provider", "name"], moving=CONTRACT_DATES)
        self.contracts = {c.name: c for c in contracts}

    def billing_periods(self, contract, count):
        """The last `count` (start, end) billing periods that started on or before today and within the term."""
        months = billing_months(contract.billing_period)
        last_day = min(self.today, contract.end_date)
        periods = []
        start = contract.start_date
        while months and start <= last_day:
            following = contract.start_date + relativedelta(months=months * (len(periods) + 1))
            periods.append((start, following - datetime.timedelta(days=1)))
            start = following
        return periods[-count:]

    def load_invoices(self):
        """Paid, open and disputed invoices, one per billing period."""
        rows = []
        for contract_name, entries in INVOICES.items():
            contract = self.contracts[contract_name]
            periods = self.billing_periods(contract, len(entries))
            for (suffix, status), (period_start, period_end) in zip(entries, periods, strict=True):
                invoice_date = period_start
                # A disputed invoice billed above the contracted rate: that is why it is disputed.
                amount = contract.recurring_cost * (Decimal("1.15") if status == "Disputed" else 1)
                rows.append(
                    {
                        "contract": contract,
                        "invoice_number": f"INV-{contract.contract_number or contract.name}-{suffix}",
                        "invoice_date": invoice_date,
                        "due_date": invoice_date + datetime.timedelta(days=30),
                        "period_start": period_start,
                        "period_end": period_end,
                        "amount": round_money(amount),
                        "currency": contract.currency,
                        "status": self.status(Invoice, status),
                        "paid_date": min(invoice_date + datetime.timedelta(days=20), self.today)
                        if status == "Paid"
                        else None,
                    }
                )
        invoices = self.ensure(Invoice, rows, ["contract", "invoice_number"], moving=INVOICE_DATES)
        self.invoices = {(i.contract_id, i.invoice_number.rsplit("-", 1)[-1]): i for i in invoices}

    def load_assignments(self):
        """Assignments to devices, racks, locations, circuits, tenants and a tenant group."""
        targets = {
            "device": self.devices,
            "rack": self.racks,
            "location": self.locations,
            "circuit": self.circuits,
            "tenant": self.tenants,
            "tenantgroup": self.tenant_groups,
        }
        rows = []
        for contract_name, entries in ASSIGNMENTS.items():
            contract = self.contracts[contract_name]
            for kind, target_name in entries:
                target = targets[kind][target_name]
                row = {
                    "contract": contract,
                    "assigned_object_type": ContentType.objects.get_for_model(target),
                    "assigned_object_id": target.pk,
                }
                row.update(ASSIGNMENT_DETAILS.get((contract_name, target_name), {}))
                row["coverage_start"] = None
                if (contract_name, target_name) == ("Juniper Care - Edge", "fra-dc1-rtr-01"):
                    # Added to the contract a month into its term: coverage starts then, not at the contract start.
                    row["coverage_start"] = contract.start_date + datetime.timedelta(days=30)
                    row["comments"] = "Added to the contract after the site opened."
                rows.append(row)
        key = ["contract", "assigned_object_type", "assigned_object_id"]
        self.ensure(ContractAssignment, rows, key, moving=["coverage_start"])

    def load_exchange_rates(self):
        """EUR and GBP into USD, two effective dates each."""
        rows = [
            {"currency": currency, "effective_date": effective, "rate": Decimal(rate), "description": "Demo rate"}
            for currency, effective, rate in EXCHANGE_RATES
        ]
        self.ensure(ExchangeRate, rows, ["currency", "effective_date"])

    def load_budgets(self):
        """A few budgets for the current and the previous fiscal year (their fiscal year follows today)."""
        current = fiscal_year_of(self.today)
        # One write per fiscal-year offset, the current year's first: when today has moved into a new fiscal year,
        # "current" leaves its year before "previous" moves into it (both share the unique budget scope).
        for year_offset in sorted({row[1] for row in BUDGETS}, reverse=True):
            rows = [
                {
                    "name": name,
                    "fiscal_year": current + offset,
                    "currency": currency,
                    "amount": Decimal(amount),
                    "tenant": self.tenants.get(tenant) if tenant else None,
                    "cost_center": cost_center,
                    "description": "Demo budget",
                }
                for name, offset, currency, amount, tenant, cost_center in BUDGETS
                if offset == year_offset
            ]
            self.ensure(Budget, rows, ["name"], moving=["fiscal_year"])

    def load_attachments(self):
        """Small generated files stored through the attachments' FileField (so they land in MEDIA_ROOT)."""

        def content(file_name, title):
            if file_name.endswith(".pdf"):
                return ContentFile(minimal_pdf(), name=file_name)
            text = f"{title}\n\nDemo attachment generated by load_contracts_demo_data.\n"
            return ContentFile(text.encode(), name=file_name)

        rows = [
            {
                "contract": self.contracts[contract],
                "name": name,
                "description": description,
                "file": content(file_name, name),
            }
            for contract, name, file_name, description in CONTRACT_ATTACHMENTS
        ]
        self.ensure(ContractAttachment, rows, ["contract", "name"])
        rows = [
            {
                "invoice": self.invoices[(self.contracts[contract].pk, suffix)],
                "name": name,
                "description": description,
                "file": content(file_name, name),
            }
            for contract, suffix, name, file_name, description in INVOICE_ATTACHMENTS
        ]
        self.ensure(InvoiceAttachment, rows, ["invoice", "name"])

    # -- entry point --------------------------------------------------------------------------------------------------

    def load(self):
        """Create what is missing, all or nothing."""
        with transaction.atomic():
            self.load_core()
            self.load_providers()
            self.load_contracts()
            self.load_invoices()
            self.load_assignments()
            self.load_exchange_rates()
            self.load_budgets()
            self.load_attachments()
            self.load_snapshots()
        return self.created

    def load_snapshots(self):
        """A year of monthly cost snapshots (the 1st of each past month), written by the app's snapshot service.

        Only missing dates are computed, oldest first, each from the contracts as they now stand; like the Capture
        cost history snapshot Job's backfill, a date that has rows is never rewritten.
        """
        first = self.today.replace(day=1)
        dates = [first - relativedelta(months=months) for months in range(SNAPSHOT_MONTHS, -1, -1)]
        # Never a date after the real today either: the snapshot service refuses those.
        dates = [d for d in dates if d < min(self.today, clock.today())]
        have = set(CostSnapshot.objects.filter(snapshot_date__in=dates).values_list("snapshot_date", flat=True))
        for as_of in (d for d in dates if d not in have):
            rows = snapshot_rows(as_of, coverage_gap_count=uncovered_devices(as_of).count())
            write_snapshot(rows)
            self.created[CostSnapshot._meta.label] += len(rows)


SUMMARY_MODELS = (
    Location, Rack, Device, Tenant, Circuit, ServiceProvider, Contract, Invoice, ContractAssignment, ExchangeRate,
    ContractAttachment, InvoiceAttachment, CostSnapshot,
)  # fmt: skip


def summary(today=None):
    """Lines describing what exists: object counts, contracts per currency and renewal tiers as of `today`."""
    today = today or clock.today()
    lines = [f"{model._meta.verbose_name_plural.capitalize()}: {model.objects.count()}" for model in SUMMARY_MODELS]
    currencies = Counter(Contract.objects.values_list("currency", flat=True))
    lines.append("Contracts per currency: " + ", ".join(f"{c} {n}" for c, n in sorted(currencies.items())))
    tiers = Counter(renewal_tier(c, today) for c in active_contracts(today).select_related("status"))
    tiers.pop(None, None)
    lines.append(f"Renewal tiers on {today}: " + ", ".join(f"{t} {n}" for t, n in sorted(tiers.items())))
    lines.append(f"Devices without contract coverage on {today}: {uncovered_devices(today).count()}")
    return lines


def load_demo_data(today=None):
    """Load the demo data set; return the number of objects created per model label."""
    return DemoDataLoader(today=today).load()


def refresh_demo_data(today=None):
    """Load the demo data set; return (objects created, objects whose dates moved), per model label."""
    loader = DemoDataLoader(today=today)
    return loader.load(), loader.moved
