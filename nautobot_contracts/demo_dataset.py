"""The demo data set of `load_contracts_demo_data`, as plain declarations (the loader is `demo_data.py`).

Keys (names, numbers, fixed rate dates) never depend on today's date; contract dates are day offsets from the day of
each run, so a re-run moves them and every renewal tier stays populated on a long-lived database.
"""

import datetime

from nautobot_contracts.choices import BillingPeriodChoices as Period, ContractTypeChoices as Type

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

# Entitlements: contract -> (quantity, unit). Devices are counted by the coverage rule; other units sum the quantities
# of the assignments in force (ASSIGNMENT_DETAILS). SmartNet covers 2 of 3 devices bought, Juniper Care 3 of 2 (over
# quota), PAN 2 of 10 licences (under-utilized), ServiceNow ITOM 320 of 500 users.
ENTITLEMENTS = {
    "Cisco SmartNet - Core": (3, "devices"),
    "Juniper Care - Edge": (2, "devices"),
    "PAN Threat Prevention": (10, "licences"),
    "ServiceNow ITOM": (500, "users"),
}

# Assignment fields other than the defaults: (contract, target) -> {field: value}. The Wi-Fi contract's cost is split
# 3:1 between the HQ site and the Corporate IT tenant (cost allocation).
ASSIGNMENT_DETAILS = {
    ("ServiceNow ITOM", "Business Units"): {"quantity": 320},
    ("CDW Managed Wi-Fi", "NYC-HQ"): {"allocation_weight": 3},
}

# (currency, effective date, rate into USD). Fixed dates: keys must not move with the calendar.
EXCHANGE_RATES = [
    ("EUR", datetime.date(2025, 1, 1), "1.03500000"),
    ("EUR", datetime.date(2026, 1, 1), "1.17250000"),
    ("GBP", datetime.date(2025, 1, 1), "1.25100000"),
    ("GBP", datetime.date(2026, 1, 1), "1.34600000"),
]

# Budgets: (name, fiscal year relative to today's (0 = current, -1 = previous), currency, amount, tenant, cost center).
# The fiscal year follows today like the contract dates do; the name is the key.
BUDGETS = [
    ("IT spend USD, current FY", 0, "USD", "450000.00", None, ""),
    ("IT spend USD, previous FY", -1, "USD", "240000.00", None, ""),
    ("Retail Americas USD, current FY", 0, "USD", "60000.00", "Retail Americas", ""),
    ("EMEA EUR, current FY", 0, "EUR", "150000.00", None, ""),
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
