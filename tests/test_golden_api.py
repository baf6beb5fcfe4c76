"""Golden comparison of REST list responses: the API's performance work (api/performance.py) changes no byte.

The golden files under tests/golden/ were recorded from the code before that work, on the fixed data set below
(fixed primary keys, timestamps and as-of date). Objects the test database already holds (statuses) have ids that
differ between databases, so every id not made here is replaced by a placeholder numbered in order of appearance:
a wrong id still shows up as a different placeholder. Record again (only for an intended representation change)
with NAUTOBOT_CONTRACTS_RECORD_GOLDEN=1.
"""

import datetime
from decimal import Decimal
import json
import os
from pathlib import Path
import re
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase
from nautobot.dcim.models import Device, DeviceType, Location, LocationType, Manufacturer, Rack
from nautobot.extras.models import Role, Tag, TaggedItem
from nautobot.tenancy.models import Tenant, TenantGroup

from nautobot_contracts.models import Contract, ContractAssignment, Invoice, ServiceProvider
from tests import factories
from tests.pinning import pin_today

API = "plugins-api:nautobot_contracts-api"
GOLDEN = Path(__file__).resolve().parent / "golden"
AS_OF = datetime.date(2026, 6, 15)
STAMP = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FIXED_PREFIX = "00000000-0000-4000-8000-"
RECORD = os.getenv("NAUTOBOT_CONTRACTS_RECORD_GOLDEN") == "1"
# (golden file, list route, query string)
CASES = (
    ("contracts.json", "contract-list", "limit=100"),
    ("assignments.json", "contractassignment-list", "limit=100"),
    ("invoices.json", "invoice-list", "limit=100"),
    ("providers.json", "serviceprovider-list", "limit=100"),
    ("contracts_sparse.json", "contract-list", "limit=100&fields=id,natural_slug,tags,status,url"),
)


def fixed_id(n):
    """A made-up but stable primary key."""
    return uuid.UUID(f"{FIXED_PREFIX}{n:012d}")


def normalize(content):
    """The response bytes with every id this test did not choose replaced by <id-N>, in order of appearance."""
    text = content.decode("utf-8")
    seen = {}

    def placeholder(match):
        value = match.group(0)
        if value.startswith(FIXED_PREFIX):
            return value
        return seen.setdefault(value, f"<id-{len(seen) + 1}>")

    return UUID_RE.sub(placeholder, text)


def build_fixed_data():
    """Providers, contracts (tagged, with statuses and a tenant), invoices and assignments to four kinds of target."""
    n = iter(range(1, 10_000))

    def tag_with(obj, *tags):
        # An object's tags are listed in the order of their TaggedItem primary keys (django-taggit): fix those too.
        for one in tags:
            TaggedItem.objects.create(
                pk=fixed_id(5000 + next(n)),
                tag=one,
                content_type=ContentType.objects.get_for_model(obj),
                object_id=obj.pk,
            )

    tags = []
    for name, color in (("gold", "ffd700"), ("core", "2196f3"), ("Überwachung", "4caf50")):
        tag = Tag.objects.create(pk=fixed_id(next(n)), name=name, color=color)
        tag.content_types.add(*ContentType.objects.get_for_models(Contract, Invoice, ServiceProvider).values())
        tags.append(tag)
    providers = [
        ServiceProvider.objects.create(pk=fixed_id(next(n)), name=name, account_number=f"A-{i}")
        for i, name in enumerate(("Acme Networks", "Büro Systems GmbH", "Carrier & Co"))
    ]
    tag_with(providers[0], tags[0])
    group = TenantGroup.objects.create(pk=fixed_id(next(n)), name="Group Root")
    tenant = Tenant.objects.create(pk=fixed_id(next(n)), name="Tenant Alpha", tenant_group=group)
    statuses = {name: factories.status_for(Contract, name) for name in ("Active", "Expired", "Pending")}
    contracts = []
    for i in range(9):
        contract = Contract.objects.create(
            pk=fixed_id(next(n)),
            name=f"Contract {i:02d}" + (" ünicode" if i == 4 else ""),
            contract_number=f"C-{i:04d}" if i % 3 else "",
            provider=providers[i % 3],
            status=statuses[("Active", "Active", "Expired", "Pending")[i % 4]],
            contract_type=("support", "maintenance", "license")[i % 3],
            start_date=datetime.date(2025, 1 + i, 1),
            end_date=datetime.date(2026, 1 + i, 28),
            recurring_cost=Decimal("1234.56") + i,
            billing_period=("monthly", "quarterly", "annual", "one_time")[i % 4],
            currency=("USD", "EUR", "GBP")[i % 3],
            auto_renew=i % 2 == 0,
            notice_period_days=(None, 30, 60)[i % 3],
            tenant=tenant if i % 2 else None,
        )
        tag_with(contract, *reversed(tags[: i % 4]))
        contracts.append(contract)
    invoice_open = factories.status_for(Invoice, "Open")
    invoices = []
    for i, contract in enumerate(contracts[:6]):
        for k in range(2):
            invoice = Invoice.objects.create(
                pk=fixed_id(next(n)),
                contract=contract,
                invoice_number=f"INV-{i}-{k}",
                invoice_date=datetime.date(2025, 3 + k, 1 + i),
                period_start=datetime.date(2025, 2 + k, 1),
                period_end=datetime.date(2025, 2 + k, 28),
                amount=Decimal("100.10") * (i + 1),
                currency=contract.currency,
                status=invoice_open,
            )
            tag_with(invoice, *tags[k : k + 1])
            invoices.append(invoice)

    region_type = LocationType.objects.create(pk=fixed_id(next(n)), name="Golden region")
    site_type = LocationType.objects.create(pk=fixed_id(next(n)), name="Golden site", parent=region_type)
    site_type.content_types.add(*ContentType.objects.get_for_models(Device, Rack).values())
    active = factories.status_for(Location, "Active")
    factories.status_for(Device, "Active")
    factories.status_for(Rack, "Active")
    region = Location.objects.create(pk=fixed_id(next(n)), name="Europe", location_type=region_type, status=active)
    site = Location.objects.create(
        pk=fixed_id(next(n)), name="Berlin", location_type=site_type, parent=region, status=active
    )
    rack = Rack.objects.create(pk=fixed_id(next(n)), name="R-1", location=site, status=active)
    manufacturer = Manufacturer.objects.create(pk=fixed_id(next(n)), name="Golden Vendor")
    device_type = DeviceType.objects.create(pk=fixed_id(next(n)), manufacturer=manufacturer, model="GS-1")
    role = Role.objects.create(pk=fixed_id(next(n)), name="Golden role")
    role.content_types.add(ContentType.objects.get_for_model(Device))
    devices = [
        Device.objects.create(
            pk=fixed_id(next(n)),
            name=name,
            device_type=device_type,
            role=role,
            location=site,
            rack=rack,
            status=active,
            tenant=tenant,
        )
        for name in ("edge-1", None)
    ]
    targets = [*devices, rack, site, region, tenant, group]
    for i, contract in enumerate(contracts):
        for k, target in enumerate(targets[i % 3 :: 3]):
            assignment = ContractAssignment.objects.create(
                pk=fixed_id(next(n)),
                contract=contract,
                assigned_object_type=ContentType.objects.get_for_model(target),
                assigned_object_id=target.pk,
            )
            if k == 0:
                tag_with(assignment, tags[1])
    for model in (ServiceProvider, Contract, Invoice, ContractAssignment, Tag):
        model.objects.update(created=STAMP, last_updated=STAMP)


class GoldenListTest(APITestCase):
    """List responses equal the recorded golden files byte for byte, with the same query counts."""

    @classmethod
    def setUpTestData(cls):
        build_fixed_data()

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        pin_today(self, AS_OF)

    def get(self, route, query):
        return self.client.get(f"{reverse(f'{API}:{route}')}?{query}", **self.header)

    def test_lists_match_golden_files(self):
        for name, route, query in CASES:
            with self.subTest(name):
                response = self.get(route, query)
                self.assertEqual(response.status_code, 200)
                body = normalize(response.content)
                path = GOLDEN / name
                if RECORD:
                    path.parent.mkdir(exist_ok=True)
                    path.write_text(body, encoding="utf-8")
                if os.getenv("NAUTOBOT_CONTRACTS_GOLDEN_DIFF_DIR"):
                    Path(os.environ["NAUTOBOT_CONTRACTS_GOLDEN_DIFF_DIR"], name).write_text(body, encoding="utf-8")
                self.assertGreater(len(json.loads(body)["results"]), 2)
                self.assertEqual(body, path.read_text(encoding="utf-8"))

    def test_query_count_independent_of_page_size(self):
        # (An assignment page queries once per kind of target and tree level; tests/test_api.py bounds those.)
        for route, small_page in (("contract-list", 2), ("invoice-list", 2), ("serviceprovider-list", 2)):
            with self.subTest(route):
                self.get(route, f"limit={small_page}")  # warm caches (content types, permissions, custom fields)
                with CaptureQueriesContext(connection) as small:
                    self.assertEqual(self.get(route, f"limit={small_page}").status_code, 200)
                with CaptureQueriesContext(connection) as large:
                    self.assertEqual(self.get(route, "limit=100").status_code, 200)
                self.assertEqual(len(small), len(large))
