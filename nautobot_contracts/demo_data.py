"""A realistic, idempotent demo data set for `nautobot-server load_contracts_demo_data`.

Every object is matched on its natural key and created only when missing, so a second run creates nothing and changes
nothing. Keys never depend on today's date (only the term dates of newly created contracts do), so a re-run on a later
day is a no-op as well. Contract dates are laid out relative to the day of the first run so every renewal tier
(missed, urgent, soon, upcoming) appears with the app's default thresholds.

Cost snapshots are deliberately not created here: DOMAIN.md allows only the "Capture cost history snapshot" Job to
write them.
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

from nautobot_contracts.choices import BillingPeriodChoices as Period, ContractTypeChoices as Type
from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    ContractAttachment,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)
from nautobot_contracts.services.coverage import uncovered_devices
from nautobot_contracts.services.terms import active_contracts, billing_months, renewal_tier

# --------------------------------------------------------------------------------------------------------------------
# The data set
# --------------------------------------------------------------------------------------------------------------------

# Location tree: region -> city -> site, with the racks of each site.
LOCATIONS = {
    "North America": {
        "New York": {"NYC-DC1": ["R101", "R102"], "NYC-HQ": []},
        "Chicago": {"CHI-DC1": ["R201"]},
    },
    "Europe": {
        "London": {"LON-DC1": ["L01", "L02"]},
        "Frankfurt": {"FRA-DC1": ["F01"]},
    },
}

# (manufacturer, model, height in U)
DEVICE_TYPES = {
    "router-cisco": ("Cisco", "ASR1001-X", 1),
    "router-juniper": ("Juniper", "MX204", 1),
    "switch-arista": ("Arista", "DCS-7050SX3-48YC8", 1),
    "switch-cisco": ("Cisco", "Catalyst 9300-48P", 1),
    "firewall": ("Palo Alto Networks", "PA-5220", 2),
}
ROLES = {"router": ("Router", "2196f3"), "switch": ("Switch", "4caf50"), "firewall": ("Firewall", "f44336")}

TENANT_GROUPS = {"Business Units": None, "Retail": "Business Units", "Corporate": "Business Units"}
TENANTS = {"Retail Americas": "Retail", "Retail EMEA": "Retail", "Corporate IT": "Corporate", "Finance": "Corporate"}

# Devices per site: (name suffix, device type key, role key, count, rack or None, tenant or None)
DEVICES = {
    "NYC-DC1": [
        ("rtr", "router-cisco", "router", 2, "R101", "Retail Americas"),
        ("sw", "switch-arista", "switch", 4, "R101", "Retail Americas"),
        ("sw-b", "switch-arista", "switch", 2, "R102", "Retail Americas"),
        ("fw", "firewall", "firewall", 2, "R102", "Retail Americas"),
    ],
    "NYC-HQ": [
        ("sw", "switch-cisco", "switch", 4, None, "Corporate IT"),
        ("fw", "firewall", "firewall", 1, None, "Corporate IT"),
    ],
    "CHI-DC1": [
        ("rtr", "router-cisco", "router", 1, "R201", None),
        ("sw", "switch-arista", "switch", 4, "R201", None),
        ("fw", "firewall", "firewall", 1, "R201", None),
    ],
    "LON-DC1": [
        ("rtr", "router-juniper", "router", 2, "L01", "Retail EMEA"),
        ("sw", "switch-arista", "switch", 4, "L02", "Retail EMEA"),
        ("fw", "firewall", "firewall", 2, "L01", "Retail EMEA"),
    ],
    "FRA-DC1": [
        ("rtr", "router-juniper", "router", 1, "F01", "Retail EMEA"),
        ("sw", "switch-arista", "switch", 4, "F01", "Retail EMEA"),
        ("fw", "firewall", "firewall", 1, None, "Retail EMEA"),
    ],
}

CIRCUIT_PROVIDERS = ["Lumen", "Zayo", "Colt"]
# (circuit provider, circuit id, circuit type)
CIRCUITS = [
    ("Lumen", "LUMEN-CHI-0001", "Internet"),
    ("Lumen", "LUMEN-NYC-0002", "Internet"),
    ("Zayo", "ZAYO-WAVE-1001", "Wavelength"),
    ("Colt", "COLT-LON-2001", "Internet"),
    ("Colt", "COLT-MPLS-2002", "MPLS"),
]

# name -> (account number, portal, support e-mail, circuit provider or None, description)
PROVIDERS = {
    "Cisco Systems": ("CSCO-448120", "https://www.cisco.com/", "tac@cisco.example", None, "Hardware and SmartNet"),
    "Arista Networks": ("ARI-20931", "https://www.arista.com/", "support@arista.example", None, "Switching, A-Care"),
    "Juniper Networks": ("JNPR-77310", "https://www.juniper.net/", "jtac@juniper.example", None, "Edge routing"),
    "Palo Alto Networks": ("PAN-55012", "https://www.paloaltonetworks.com/", "support@pan.example", None, "Firewalls"),
    "Equinix": ("EQX-100234", "https://www.equinix.com/", "service@equinix.example", None, "Colocation"),
    "Interxion": ("INX-FRA-0042", "https://www.interxion.com/", "noc@interxion.example", None, "Colocation (EU)"),
    "Lumen Technologies": ("LUM-390012", "https://www.lumen.com/", "noc@lumen.example", "Lumen", "Carrier"),
    "Zayo Group": ("ZAYO-88120", "https://www.zayo.com/", "noc@zayo.example", "Zayo", "Carrier, dark fibre"),
    "Colt Technology Services": ("COLT-UK-7781", "https://www.colt.net/", "noc@colt.example", "Colt", "Carrier (EU)"),
    "ServiceNow": ("SN-00913", "https://www.servicenow.com/", "support@servicenow.example", None, "SaaS"),
    "CDW": ("CDW-661204", "https://www.cdw.com/", "accounts@cdw.example", None, "Reseller, managed services"),
}

# Contracts. Dates are day offsets from the first run's "today". With the default thresholds (urgent 14 days, doubled
# for auto-renewing contracts; soon 30; window 90) the notice deadlines below land well inside one tier each.
# name: (provider, type, status, currency, period, recurring, one-time, start, end, auto-renew, notice days, tenant)
CONTRACTS = {
    # missed: the deadline passed 30 days ago and the term has not ended; it lapses.
    "Cisco SmartNet - Core": (
        "Cisco Systems", Type.TYPE_SUPPORT, "Active", "USD", Period.PERIOD_ANNUAL, "48000.00", "0", -335, 30, False, 60,
        None,
    ),
    # missed, auto-renewing: another term is already committed.
    "Arista A-Care - NYC": (
        "Arista Networks", Type.TYPE_MAINTENANCE, "Active", "EUR", Period.PERIOD_SEMIANNUAL, "9600.00", "0", -355, 10,
        True, 60, "Retail Americas",
    ),
    # urgent: deadline in 10 days.
    "Equinix NY5 Cage": (
        "Equinix", Type.TYPE_COLOCATION, "Active", "USD", Period.PERIOD_MONTHLY, "12500.00", "15000.00", -690, 40,
        False, 30, None,
    ),
    # urgent because it auto-renews: deadline in 20 days (inside 2 x 14).
    "PAN Threat Prevention": (
        "Palo Alto Networks", Type.TYPE_LICENSE, "Active", "EUR", Period.PERIOD_ANNUAL, "21000.00", "0", -320, 45,
        True, 25, None,
    ),
    # soon: deadline in 20 days.
    "Zayo Wavelength NYC-CHI": (
        "Zayo Group", Type.TYPE_CIRCUIT, "Active", "USD", Period.PERIOD_MONTHLY, "8500.00", "2500.00", -1015, 80,
        False, 60, None,
    ),
    # upcoming: deadline in 40 days (auto-renewing, so urgent only inside 28).
    "Colt IP Access London": (
        "Colt Technology Services", Type.TYPE_CIRCUIT, "Active", "GBP", Period.PERIOD_QUARTERLY, "9000.00", "0", -600,
        130, True, 90, "Retail EMEA",
    ),
    # upcoming: deadline in 60 days, no notice period (the deadline is the term end).
    "CDW Managed Wi-Fi": (
        "CDW", Type.TYPE_MANAGED_SERVICE, "Active", "USD", Period.PERIOD_QUARTERLY, "7200.00", "0", -305, 60, False,
        None, "Corporate IT",
    ),
    # No tier: deadlines far away.
    "Juniper Care - Edge": (
        "Juniper Networks", Type.TYPE_SUPPORT, "Active", "GBP", Period.PERIOD_SEMIANNUAL, "6400.00", "0", -330, 400,
        False, 90, None,
    ),
    "Arista Support - EU DCs": (
        "Arista Networks", Type.TYPE_SUPPORT, "Active", "EUR", Period.PERIOD_ANNUAL, "18000.00", "0", -115, 250, False,
        60, "Retail EMEA",
    ),
    "Cisco Hardware Warranty - HQ": (
        "Cisco Systems", Type.TYPE_WARRANTY, "Active", "USD", Period.PERIOD_ONE_TIME, "0", "120000.00", -400, 700,
        False, None, "Corporate IT",
    ),
    "Lumen DIA Chicago": (
        "Lumen Technologies", Type.TYPE_CIRCUIT, "Active", "USD", Period.PERIOD_MONTHLY, "3200.00", "1000.00", -500,
        230, False, 60, None,
    ),
    "Equinix LD8 Cage": (
        "Equinix", Type.TYPE_COLOCATION, "Active", "GBP", Period.PERIOD_MONTHLY, "9800.00", "12000.00", -800, 480,
        False, 90, "Retail EMEA",
    ),
    "Interxion FRA2 Suite": (
        "Interxion", Type.TYPE_COLOCATION, "Active", "EUR", Period.PERIOD_MONTHLY, "7400.00", "8000.00", -420, 310,
        True, 90, "Retail EMEA",
    ),
    # Auto-renewing, its original end passed 70 days ago: it rolled into a new 12-month term.
    "ServiceNow ITOM": (
        "ServiceNow", Type.TYPE_SUBSCRIPTION, "Active", "USD", Period.PERIOD_ANNUAL, "36000.00", "0", -800, -70, True,
        30, None,
    ),
    "Structured Cabling NYC-HQ": (
        "CDW", Type.TYPE_OTHER, "Active", "USD", Period.PERIOD_ONE_TIME, "0", "18500.00", -60, 305, False, None,
        "Corporate IT",
    ),
    # Pending: signed, not yet in force.
    "Zayo Dark Fibre FRA": (
        "Zayo Group", Type.TYPE_CIRCUIT, "Pending", "EUR", Period.PERIOD_MONTHLY, "4300.00", "20000.00", 30, 1125,
        False, 180, None,
    ),
    "ServiceNow SecOps": (
        "ServiceNow", Type.TYPE_SUBSCRIPTION, "Pending", "USD", Period.PERIOD_ANNUAL, "24000.00", "0", 14, 379, True,
        60, None,
    ),
    # Expired and cancelled: financial records kept.
    "Cisco SmartNet - Core (previous term)": (
        "Cisco Systems", Type.TYPE_SUPPORT, "Expired", "USD", Period.PERIOD_ANNUAL, "45000.00", "0", -700, -336, False,
        60, None,
    ),
    "Colt MPLS Legacy": (
        "Colt Technology Services", Type.TYPE_CIRCUIT, "Expired", "GBP", Period.PERIOD_MONTHLY, "2100.00", "0", -1200,
        -100, False, 90, None,
    ),
    "Legacy Managed Firewall": (
        "CDW", Type.TYPE_MANAGED_SERVICE, "Cancelled", "EUR", Period.PERIOD_QUARTERLY, "5100.00", "0", -900, 180,
        False, 30, None,
    ),
}  # fmt: skip

# Invoices: contract -> [(number suffix, status), ...], oldest first. Each bills one billing period, going back from the
# most recent period that started before the contract's first-run "today".
INVOICES = {
    "Cisco SmartNet - Core": [("01", "Paid")],
    "Arista A-Care - NYC": [("01", "Paid"), ("02", "Open")],
    "Equinix NY5 Cage": [("01", "Paid"), ("02", "Paid"), ("03", "Open")],
    "PAN Threat Prevention": [("01", "Paid")],
    "Zayo Wavelength NYC-CHI": [("01", "Paid"), ("02", "Disputed"), ("03", "Open")],
    "Colt IP Access London": [("01", "Paid"), ("02", "Open")],
    "CDW Managed Wi-Fi": [("01", "Paid"), ("02", "Disputed")],
    "Lumen DIA Chicago": [("01", "Paid"), ("02", "Paid"), ("03", "Open")],
    "Equinix LD8 Cage": [("01", "Paid"), ("02", "Open")],
    "Interxion FRA2 Suite": [("01", "Paid"), ("02", "Open")],
    "Colt MPLS Legacy": [("01", "Paid")],
}

# Assignments: contract -> [(target kind, target name), ...]; kinds: device, rack (site/rack), location, circuit,
# tenant, tenantgroup. Devices in CHI-DC1, in NYC-DC1 rack R102 and LON-DC1 rack L02 stay uncovered on purpose.
ASSIGNMENTS = {
    "Cisco SmartNet - Core": [("device", "nyc-dc1-rtr-01"), ("device", "nyc-dc1-rtr-02")],
    "Arista A-Care - NYC": [("rack", "NYC-DC1/R101")],
    "Juniper Care - Edge": [
        ("device", "lon-dc1-rtr-01"), ("device", "lon-dc1-rtr-02"), ("device", "fra-dc1-rtr-01"),
    ],
    "Arista Support - EU DCs": [("location", "FRA-DC1")],
    "Cisco Hardware Warranty - HQ": [("tenant", "Corporate IT")],
    "PAN Threat Prevention": [("device", "lon-dc1-fw-01"), ("device", "lon-dc1-fw-02")],
    "Equinix NY5 Cage": [("location", "NYC-DC1")],
    "Equinix LD8 Cage": [("location", "LON-DC1")],
    "Interxion FRA2 Suite": [("location", "FRA-DC1")],
    "Zayo Wavelength NYC-CHI": [("circuit", "ZAYO-WAVE-1001")],
    "Lumen DIA Chicago": [("circuit", "LUMEN-CHI-0001")],
    "Colt IP Access London": [("circuit", "COLT-LON-2001")],
    "Colt MPLS Legacy": [("circuit", "COLT-MPLS-2002")],
    "CDW Managed Wi-Fi": [("location", "NYC-HQ"), ("tenant", "Corporate IT")],
    "ServiceNow ITOM": [("tenantgroup", "Business Units")],
    # An expired contract still assigned: it covers nothing.
    "Cisco SmartNet - Core (previous term)": [("device", "chi-dc1-rtr-01")],
}  # fmt: skip

# (currency, effective date, rate into USD). Fixed dates: keys must not move with the calendar.
EXCHANGE_RATES = [
    ("EUR", datetime.date(2025, 1, 1), "1.03500000"),
    ("EUR", datetime.date(2026, 1, 1), "1.17250000"),
    ("GBP", datetime.date(2025, 1, 1), "1.25100000"),
    ("GBP", datetime.date(2026, 1, 1), "1.34600000"),
]

# Smallest well-formed PDF: one empty page with a valid cross-reference table.
_PDF_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
]


def minimal_pdf():
    """Bytes of a valid one-page blank PDF (offsets in the xref table computed, not guessed)."""
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(_PDF_OBJECTS, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(_PDF_OBJECTS) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(_PDF_OBJECTS) + 1, xref)
    return body


# Attachments: (contract, attachment name, file name, description). Invoice attachments: (contract, invoice suffix, ...)
CONTRACT_ATTACHMENTS = [
    ("Cisco SmartNet - Core", "Signed agreement", "cisco-smartnet-core-signed.pdf", "Countersigned contract"),
    ("Cisco SmartNet - Core", "Renewal quote", "cisco-smartnet-core-renewal-quote.txt", "Quote for the next term"),
    ("Equinix NY5 Cage", "Order form", "equinix-ny5-order-form.pdf", "Signed order form"),
]
INVOICE_ATTACHMENTS = [
    ("Zayo Wavelength NYC-CHI", "02", "Vendor invoice", "zayo-wave-invoice-02.pdf", "Disputed invoice as received"),
    ("Equinix NY5 Cage", "01", "Vendor invoice", "equinix-ny5-invoice-01.pdf", "Invoice PDF from the portal"),
]


# --------------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------------


class DemoDataLoader:
    """Create whatever of the demo data set is missing; `created` counts new objects per model."""

    def __init__(self, today=None):
        """`today` anchors the term dates of contracts created by this run."""
        self.today = today or datetime.date.today()
        self.created = Counter()
        self._statuses = {}
        self._bound = set()

    # -- helpers ------------------------------------------------------------------------------------------------------

    def ensure(self, model, rows, key):
        """Return one object per row (a dict of field values), creating only the rows whose `key` fields match nothing.

        Existing objects are found with one query per call, and are never modified.
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
        result = []
        for row in rows:
            obj = existing.get(row_key(row))
            if obj is None:
                obj = model(**row)
                obj.validated_save()
                existing[row_key(row)] = obj
                self.created[model._meta.label] += 1
            result.append(obj)
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
                }
            )
        self.contracts = {c.name: c for c in self.ensure(Contract, rows, ["provider", "name"])}

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
                        "amount": amount.quantize(Decimal("0.01")),
                        "currency": contract.currency,
                        "status": self.status(Invoice, status),
                        "paid_date": min(invoice_date + datetime.timedelta(days=20), self.today)
                        if status == "Paid"
                        else None,
                    }
                )
        invoices = self.ensure(Invoice, rows, ["contract", "invoice_number"])
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
                if (contract_name, target_name) == ("Juniper Care - Edge", "fra-dc1-rtr-01"):
                    # Added to the contract a month into its term: coverage starts then, not at the contract start.
                    row["coverage_start"] = contract.start_date + datetime.timedelta(days=30)
                    row["comments"] = "Added to the contract after the site opened."
                rows.append(row)
        self.ensure(ContractAssignment, rows, ["contract", "assigned_object_type", "assigned_object_id"])

    def load_exchange_rates(self):
        """EUR and GBP into USD, two effective dates each."""
        rows = [
            {"currency": currency, "effective_date": effective, "rate": Decimal(rate), "description": "Demo rate"}
            for currency, effective, rate in EXCHANGE_RATES
        ]
        self.ensure(ExchangeRate, rows, ["currency", "effective_date"])

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
            self.load_attachments()
        return self.created


SUMMARY_MODELS = (
    Location, Rack, Device, Tenant, Circuit, ServiceProvider, Contract, Invoice, ContractAssignment, ExchangeRate,
    ContractAttachment, InvoiceAttachment,
)  # fmt: skip


def summary(today=None):
    """Lines describing what exists: object counts, contracts per currency and renewal tiers as of `today`."""
    today = today or datetime.date.today()
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
