"""FilterSets: Nautobot's generic FilterTestCase for every model, plus the filters the issue names, by hand."""

import datetime
from decimal import Decimal
import shutil
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, FilterTestCases, TestCase
from nautobot.circuits.models import Provider

from nautobot_contracts import filters
from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    ContractAttachment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)
from tests import factories
from tests.pinning import pin_today

MEDIA_ROOT = tempfile.mkdtemp(prefix="nautobot-contracts-filter-tests-")
# Attachments must hold what their extension says (the content type is derived from the bytes).
MAGIC = {"application/pdf": b"%PDF-1.4\n", "image/png": b"\x89PNG\r\n\x1a\n"}


def tearDownModule():  # noqa: N802 (unittest's name)
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)


def date(year, month, day):
    return datetime.date(year, month, day)


def build_data(cls):
    """A small, varied data set, stored as attributes of the test class."""
    cls.acme = factories.ServiceProviderFactory(
        name="Acme",
        account_number="AC-1",
        support_email="noc@acme.example",
        support_phone="+1 555 0101",
        description="Carrier",
        comments="Main carrier",
        circuit_provider=Provider.objects.create(name="Acme Transit"),
    )
    cls.globex = factories.ServiceProviderFactory(
        name="Globex",
        account_number="GL-2",
        support_email="help@globex.example",
        support_phone="+1 555 0102",
        description="Colocation",
        comments="Two sites",
        circuit_provider=Provider.objects.create(name="Globex Fibre"),
    )
    cls.initech = factories.ServiceProviderFactory(
        name="Initech",
        account_number="IN-3",
        support_email="support@initech.example",
        description="Software",
        circuit_provider=Provider.objects.create(name="Initech Net"),
    )
    cls.umbrella = factories.ServiceProviderFactory(name="Umbrella", account_number="UM-4", description="Unused")

    group_a = factories.make_tenant_group("Group A")
    group_b = factories.make_tenant_group("Group B")
    cls.tenant_a = factories.make_tenant("Tenant A", group=group_a)
    cls.tenant_b = factories.make_tenant("Tenant B", group=group_b)
    cls.tenant_c = factories.make_tenant("Tenant C", group=group_b)

    status = {name: factories.status_for(Contract, name) for name in ("Active", "Pending", "Expired", "Cancelled")}
    cls.support = factories.ContractFactory(
        provider=cls.acme,
        name="Support A",
        contract_number="A-1",
        status=status["Active"],
        contract_type="support",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 3, 31),
        recurring_cost=Decimal("100.00"),
        billing_period="monthly",
        currency="USD",
        tenant=cls.tenant_a,
        cost_center="CC1",
        purchase_order="PO-1",
        notice_period_days=30,
        description="Core support",
        comments="Renew early",
    )
    cls.maintenance = factories.ContractFactory(
        provider=cls.acme,
        name="Maintenance B",
        contract_number="B-2",
        status=status["Active"],
        contract_type="maintenance",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 5, 31),
        recurring_cost=Decimal("900.00"),
        billing_period="quarterly",
        currency="EUR",
        auto_renew=True,
        tenant=cls.tenant_b,
        cost_center="CC2",
        purchase_order="PO-2",
        notice_period_days=60,
        renewal_term_months=6,
        description="Hardware maintenance",
    )
    cls.colo = factories.ContractFactory(
        provider=cls.globex,
        name="Colo C",
        contract_number="C-3",
        status=status["Pending"],
        contract_type="colocation",
        start_date=date(2025, 6, 1),
        end_date=date(2026, 5, 15),
        recurring_cost=Decimal("12000.00"),
        billing_period="annual",
        currency="GBP",
        tenant=cls.tenant_c,
        cost_center="CC3",
        purchase_order="PO-3",
        notice_period_days=90,
        renewal_term_months=24,
        description="Two racks",
    )
    cls.license = factories.ContractFactory(
        provider=cls.initech,
        name="License D",
        status=status["Expired"],
        contract_type="license",
        start_date=date(2024, 1, 1),
        end_date=date(2025, 12, 31),
        recurring_cost=Decimal("0.00"),
        one_time_cost=Decimal("5000.00"),
        billing_period="one_time",
        currency="USD",
    )
    cls.circuit_contract = factories.ContractFactory(
        provider=cls.globex,
        name="Circuit E",
        contract_number="E-5",
        status=status["Cancelled"],
        contract_type="circuit",
        start_date=date(2026, 2, 1),
        end_date=date(2027, 5, 31),
        recurring_cost=Decimal("250.00"),
        currency="EUR",
        auto_renew=True,
        tenant=cls.tenant_a,
        notice_period_days=30,
    )

    cls.spare = factories.ContractFactory(
        provider=cls.initech,
        name="Spare F",
        status=status["Cancelled"],
        contract_type="other",
        start_date=date(2028, 1, 1),
        end_date=date(2028, 6, 30),
        currency="JPY",
    )

    invoice_status = {name: factories.status_for(Invoice, name) for name in ("Open", "Paid", "Disputed")}
    cls.invoices = [
        factories.InvoiceFactory(
            contract=cls.support,
            invoice_number="INV-1",
            invoice_date=date(2026, 2, 1),
            amount=Decimal("100.00"),
            status=invoice_status["Open"],
            description="January",
        ),
        factories.InvoiceFactory(
            contract=cls.support,
            invoice_number="INV-2",
            invoice_date=date(2026, 3, 1),
            amount=Decimal("100.00"),
            status=invoice_status["Paid"],
            paid_date=date(2026, 3, 5),
            description="February",
        ),
        factories.InvoiceFactory(
            contract=cls.maintenance,
            invoice_number="M-7",
            invoice_date=date(2026, 4, 1),
            amount=Decimal("900.00"),
            status=invoice_status["Disputed"],
            description="Q1",
        ),
        factories.InvoiceFactory(
            contract=cls.colo,
            invoice_number="G-9",
            invoice_date=date(2025, 7, 1),
            amount=Decimal("12000.00"),
            status=invoice_status["Open"],
            description="Year one",
        ),
        factories.InvoiceFactory(
            contract=cls.license,
            invoice_number="L-1",
            invoice_date=date(2024, 1, 15),
            amount=Decimal("5000.00"),
            status=invoice_status["Paid"],
            paid_date=date(2024, 2, 1),
            description="Licence purchase",
        ),
    ]

    region = factories.make_location("Europe", location_type_name="Region")
    cls.paris = factories.make_location("Paris", parent=region)
    cls.berlin = factories.make_location("Berlin", parent=region)
    cls.device_1 = factories.make_device("edge-1", location=cls.paris)
    cls.device_2 = factories.make_device("edge-2", location=cls.berlin)
    cls.rack = factories.make_rack("R1", location=cls.paris)
    cls.circuit = factories.make_circuit("CID-1")
    cls.other_circuit = factories.make_circuit("CID-2")

    def assign(contract, target, **kwargs):
        return factories.ContractAssignmentFactory(contract=contract, assigned_object=target, **kwargs)

    cls.assignment_list = [
        assign(cls.support, cls.device_1, coverage_start=date(2026, 1, 15), comments="Primary"),
        assign(cls.support, cls.paris, coverage_end=date(2026, 2, 28), comments="Site"),
        assign(cls.maintenance, cls.device_2, coverage_start=date(2026, 2, 1), coverage_end=date(2026, 4, 30)),
        assign(cls.maintenance, cls.circuit, comments="Uplink"),
        assign(cls.colo, cls.rack),
        assign(cls.colo, cls.tenant_b),
        assign(cls.circuit_contract, cls.berlin),
        assign(cls.circuit_contract, cls.other_circuit),
        assign(cls.license, cls.tenant_a),
    ]

    with override_settings(MEDIA_ROOT=MEDIA_ROOT):
        for contract, name, filename, content_type in (
            (cls.support, "Signed", "signed.pdf", "application/pdf"),
            (cls.support, "Notes", "notes.txt", "text/plain"),
            (cls.maintenance, "Scan", "scan.png", "image/png"),
            (cls.colo, "SOW", "sow.pdf", "application/pdf"),
        ):
            ContractAttachment(
                contract=contract,
                name=name,
                description=f"{name} file",
                file=SimpleUploadedFile(
                    filename, MAGIC.get(content_type, b"") + name.encode(), content_type=content_type
                ),
            ).validated_save()
        for invoice, name in ((cls.invoices[0], "Bill 1"), (cls.invoices[1], "Bill 2"), (cls.invoices[2], "Bill 3")):
            InvoiceAttachment(
                invoice=invoice,
                name=name,
                description=f"{name} scan",
                file=SimpleUploadedFile(f"{name}.pdf", MAGIC["application/pdf"] + name.encode()),
            ).validated_save()

    for day, currency, burn, count in (
        (date(2026, 1, 1), "USD", "1000.00", 3),
        (date(2026, 1, 1), "EUR", "900.00", 2),
        (date(2026, 2, 1), "USD", "1100.00", 4),
        (date(2026, 2, 1), "EUR", "950.00", 2),
        (date(2026, 3, 1), "USD", "1200.00", 5),
        (date(2026, 3, 1), "GBP", "1000.00", 1),
    ):
        factories.CostSnapshotFactory(
            snapshot_date=day, currency=currency, monthly_burn=Decimal(burn), active_contract_count=count
        )

    for currency, rate, day, description in (
        ("EUR", "1.08", date(2026, 1, 1), "ECB"),
        ("EUR", "1.10", date(2026, 2, 1), "ECB"),
        ("GBP", "1.27", date(2026, 1, 15), "BoE"),
        ("JPY", "0.0067", date(2026, 3, 1), "Manual"),
    ):
        factories.ExchangeRateFactory(
            currency=currency, rate=Decimal(rate), effective_date=day, description=description
        )


#
# Nautobot's generic filter tests
#


class ServiceProviderFilterTest(FilterTestCases.FilterTestCase):
    queryset = ServiceProvider.objects.all()
    filterset = filters.ServiceProviderFilterSet
    generic_filter_tests = (
        ["name"],
        ["account_number"],
        ["support_email"],
        ["support_phone"],
        ["description"],
        ["circuit_provider", "circuit_provider__name"],
        ["circuit_provider", "circuit_provider__id"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


class ContractFilterTest(FilterTestCases.FilterTestCase, FilterTestCases.TenancyFilterTestCaseMixin):
    queryset = Contract.objects.all()
    filterset = filters.ContractFilterSet
    tenancy_related_name = "contracts"
    generic_filter_tests = (
        ["name"],
        ["contract_number"],
        ["provider", "provider__name"],
        ["provider", "provider__id"],
        ["status", "status__name"],
        ["status", "status__id"],
        ["tenant", "tenant__name"],
        ["tenant_id", "tenant__id"],
        ["contract_type"],
        ["billing_period"],
        ["currency"],
        ["start_date"],
        ["end_date"],
        ["recurring_cost"],
        ["notice_period_days"],
        ["renewal_term_months"],
        ["cost_center"],
        ["purchase_order"],
        ["description"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


class InvoiceFilterTest(FilterTestCases.FilterTestCase):
    queryset = Invoice.objects.all()
    filterset = filters.InvoiceFilterSet
    generic_filter_tests = (
        ["invoice_number"],
        ["contract", "contract__name"],
        ["contract", "contract__id"],
        ["provider", "contract__provider__name"],
        ["provider", "contract__provider__id"],
        ["status", "status__name"],
        ["currency"],
        ["invoice_date"],
        ["amount"],
        ["description"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


class ContractAssignmentFilterTest(FilterTestCases.FilterTestCase):
    queryset = ContractAssignment.objects.all()
    filterset = filters.ContractAssignmentFilterSet
    generic_filter_tests = (
        ["contract", "contract__name"],
        ["contract", "contract__id"],
        ["provider", "contract__provider__name"],
        ["provider", "contract__provider__id"],
        ["assigned_object_id"],
        ["coverage_start"],
        ["coverage_end"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


class ContractAttachmentFilterTest(FilterTestCases.FilterTestCase):
    queryset = ContractAttachment.objects.all()
    filterset = filters.ContractAttachmentFilterSet
    generic_filter_tests = (
        ["name"],
        ["description"],
        ["mime_type"],
        ["sha256"],
        ["contract", "contract__name"],
        ["contract", "contract__id"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


class InvoiceAttachmentFilterTest(FilterTestCases.FilterTestCase):
    queryset = InvoiceAttachment.objects.all()
    filterset = filters.InvoiceAttachmentFilterSet
    generic_filter_tests = (
        ["name"],
        ["description"],
        ["invoice", "invoice__invoice_number"],
        ["invoice", "invoice__id"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


class CostSnapshotFilterTest(FilterTestCases.FilterTestCase):
    queryset = CostSnapshot.objects.all()
    filterset = filters.CostSnapshotFilterSet
    generic_filter_tests = (
        ["snapshot_date"],
        ["currency"],
        ["monthly_burn"],
        ["active_contract_count"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


class ExchangeRateFilterTest(FilterTestCases.FilterTestCase):
    queryset = ExchangeRate.objects.all()
    filterset = filters.ExchangeRateFilterSet
    generic_filter_tests = (
        ["currency"],
        ["rate"],
        ["effective_date"],
        ["description"],
    )

    @classmethod
    def setUpTestData(cls):
        build_data(cls)


#
# The filters the issue names, checked against hand-picked expectations
#


class NamedFiltersTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_data(cls)

    def filter(self, filterset, queryset, **params):
        result = filterset(params, queryset)
        self.assertTrue(result.is_valid(), result.errors)
        return set(result.qs)

    def contracts(self, **params):
        return self.filter(filters.ContractFilterSet, Contract.objects.all(), **params)

    def assignments(self, **params):
        return self.filter(filters.ContractAssignmentFilterSet, ContractAssignment.objects.all(), **params)

    def snapshots(self, **params):
        return self.filter(filters.CostSnapshotFilterSet, CostSnapshot.objects.all(), **params)

    def test_contract_q(self):
        self.assertEqual(self.contracts(q="support"), {self.support})
        self.assertEqual(self.contracts(q="c-3"), {self.colo})  # contract number
        self.assertEqual(self.contracts(q="globex"), {self.colo, self.circuit_contract})  # provider name
        self.assertEqual(self.contracts(q="po-2"), {self.maintenance})  # purchase order
        self.assertEqual(self.contracts(q="renew early"), {self.support})  # comments
        self.assertEqual(self.contracts(q="nothing like this"), set())

    def test_contract_provider_by_name_and_id(self):
        self.assertEqual(self.contracts(provider=["Acme"]), {self.support, self.maintenance})
        self.assertEqual(self.contracts(provider=[str(self.globex.pk)]), {self.colo, self.circuit_contract})
        self.assertEqual(
            self.contracts(provider=["Initech", str(self.globex.pk)]),
            {self.license, self.spare, self.colo, self.circuit_contract},
        )
        self.assertEqual(
            self.contracts(provider__n=["Acme"]), {self.colo, self.license, self.spare, self.circuit_contract}
        )
        self.assertFalse(filters.ContractFilterSet({"provider": ["Nobody"]}, Contract.objects.all()).is_valid())

    def test_contract_end_date_parts_and_ranges(self):
        self.assertEqual(self.contracts(end_date__year=2026), {self.support, self.maintenance, self.colo})
        self.assertEqual(self.contracts(end_date__year=2026, end_date__month=5), {self.maintenance, self.colo})
        self.assertEqual(self.contracts(end_date__month=12), {self.license})
        self.assertEqual(self.contracts(start_date__year=2025), {self.colo})
        self.assertEqual(
            self.contracts(end_date__gte="2026-05-15", end_date__lte="2026-12-31"), {self.maintenance, self.colo}
        )
        self.assertEqual(self.contracts(end_date__lte="2025-12-31"), {self.license})
        self.assertEqual(self.contracts(end_date__gt="2026-05-31"), {self.circuit_contract, self.spare})

    def test_contract_currency_case_insensitive(self):
        self.assertEqual(self.contracts(currency=["eur"]), {self.maintenance, self.circuit_contract})
        self.assertEqual(self.contracts(currency=["Usd", " gbp "]), {self.support, self.license, self.colo})
        self.assertEqual(
            self.contracts(currency__n=["usd"]), {self.maintenance, self.colo, self.circuit_contract, self.spare}
        )

    def test_contract_status_tenant_type_auto_renew(self):
        self.assertEqual(self.contracts(status=["Active"]), {self.support, self.maintenance})
        self.assertEqual(self.contracts(status=["Pending", "Expired"]), {self.colo, self.license})
        self.assertEqual(self.contracts(tenant=["Tenant A"]), {self.support, self.circuit_contract})
        self.assertEqual(self.contracts(tenant_id=[str(self.tenant_c.pk)]), {self.colo})
        self.assertEqual(self.contracts(tenant_group=["Group B"]), {self.maintenance, self.colo})
        self.assertEqual(self.contracts(tenant__isnull=True), {self.license, self.spare})
        self.assertEqual(self.contracts(contract_type=["support", "license"]), {self.support, self.license})
        self.assertEqual(self.contracts(auto_renew=True), {self.maintenance, self.circuit_contract})
        self.assertEqual(self.contracts(auto_renew=False), {self.support, self.colo, self.license, self.spare})

    def test_contract_membership_filters(self):
        self.assertEqual(self.contracts(has_invoices=True), {self.support, self.maintenance, self.colo, self.license})
        self.assertEqual(self.contracts(has_invoices=False), {self.circuit_contract, self.spare})
        self.assertEqual(self.contracts(has_assignments=False), {self.spare})

    def test_assignment_object_type_and_id(self):
        # assigned_object_type is Nautobot's single-valued ContentTypeFilter ("app_label.model").
        self.assert_assignments({"assigned_object_type": "dcim.device"}, self.device_1, self.device_2)
        self.assert_assignments({"assigned_object_type": "dcim.location"}, self.paris, self.berlin)
        self.assert_assignments({"assigned_object_type": "circuits.circuit"}, self.circuit, self.other_circuit)
        self.assert_assignments(
            {"assigned_object_type__n": "dcim.location"},
            self.device_1,
            self.device_2,
            self.rack,
            self.circuit,
            self.other_circuit,
            self.tenant_a,
            self.tenant_b,
        )
        self.assert_assignments({"assigned_object_id": [str(self.circuit.pk)]}, self.circuit)
        self.assert_assignments(
            {"assigned_object_id": [str(self.circuit.pk), str(self.paris.pk)]}, self.circuit, self.paris
        )
        self.assert_assignments({"assigned_object_id__n": [str(self.circuit.pk)]}, *self.targets_except(self.circuit))

    def targets_except(self, *excluded):
        return [a.assigned_object for a in self.assignment_list if a.assigned_object not in excluded]

    def assignments_by(self, *targets):
        """The assignments of the given targets, as a frozenset (so sets of them compare)."""
        ids = {target.pk for target in targets}
        return frozenset(a for a in self.assignment_list if a.assigned_object_id in ids)

    def assert_assignments(self, params, *targets):
        self.assertEqual(frozenset(self.assignments(**params)), self.assignments_by(*targets), params)

    def test_assignment_by_device_location_circuit(self):
        self.assert_assignments({"device": ["edge-1"]}, self.device_1)
        self.assert_assignments({"device": [str(self.device_2.pk), "edge-1"]}, self.device_1, self.device_2)
        self.assert_assignments({"location": ["Paris"]}, self.paris)
        self.assert_assignments({"location": [str(self.berlin.pk)]}, self.berlin)
        self.assert_assignments({"location__name": ["Paris", "Berlin"]}, self.paris, self.berlin)
        self.assert_assignments({"circuit": ["CID-1"]}, self.circuit)
        self.assert_assignments({"circuit": [str(self.other_circuit.pk)]}, self.other_circuit)
        self.assert_assignments({"rack": ["R1"]}, self.rack)
        self.assert_assignments({"tenant": ["Tenant B"]}, self.tenant_b)
        self.assert_assignments({"device": ["no-such-device"]})

    def test_assignment_contract_and_provider(self):
        self.assertEqual(
            frozenset(self.assignments(contract=["Colo C"])),
            frozenset(a for a in self.assignment_list if a.contract == self.colo),
        )
        self.assertEqual(len(self.assignments(provider=["Acme"])), 4)

    def test_cost_snapshot_dates_and_currency(self):
        self.assertEqual(
            {(s.snapshot_date, s.currency) for s in self.snapshots(snapshot_date__gte="2026-02-01")},
            {
                (date(2026, 2, 1), "USD"),
                (date(2026, 2, 1), "EUR"),
                (date(2026, 3, 1), "USD"),
                (date(2026, 3, 1), "GBP"),
            },
        )
        self.assertEqual(
            {(s.snapshot_date, s.currency) for s in self.snapshots(snapshot_date__lte="2026-01-31")},
            {(date(2026, 1, 1), "USD"), (date(2026, 1, 1), "EUR")},
        )
        self.assertEqual(
            {s.snapshot_date for s in self.snapshots(snapshot_date__gte="2026-01-15", currency=["usd"])},
            {date(2026, 2, 1), date(2026, 3, 1)},
        )
        self.assertEqual(len(self.snapshots(currency=["EUR"])), 2)
        self.assertEqual(len(self.snapshots(currency=["eur", "gbp"])), 3)
        self.assertEqual(len(self.snapshots(q="eur")), 2)

    def test_invoice_filters(self):
        invoices = Invoice.objects.all()
        self.assertEqual(
            {i.invoice_number for i in self.filter(filters.InvoiceFilterSet, invoices, provider=["Acme"])},
            {"INV-1", "INV-2", "M-7"},
        )
        self.assertEqual(
            {i.invoice_number for i in self.filter(filters.InvoiceFilterSet, invoices, contract=["License D"])},
            {"L-1"},
        )
        self.assertEqual(
            {
                i.invoice_number
                for i in self.filter(filters.InvoiceFilterSet, invoices, invoice_date__year=2026, currency=["usd"])
            },
            {"INV-1", "INV-2"},
        )
        self.assertEqual(
            {i.invoice_number for i in self.filter(filters.InvoiceFilterSet, invoices, status=["Open"])},
            {"INV-1", "G-9"},
        )

    def test_cost_snapshot_has_no_change_log_filters(self):
        # CostSnapshot has no created/last_updated fields: such a filter must be refused, not crash the query.
        for name in ("created", "last_updated"):
            with self.subTest(filter=name):
                result = filters.CostSnapshotFilterSet({name: "2026-01-01"}, CostSnapshot.objects.all())
                self.assertFalse(result.is_valid())
                self.assertIn("Unknown filter field", result.errors.as_text())


# Computed figures, worked out by hand on the pinned today 2026-03-01 (urgent 14 days, soon 30, window 90):
#   rolled        Active, auto-renews yearly, ended 2025-05-31 -> term end 2026-05-31, notice 30 -> deadline
#                 2026-05-01, 61 days: upcoming
#   may-fixed     Active, ends 2026-05-15, notice 90 -> deadline 2026-02-14, 15 days ago, term runs: missed
#   cancelled-old Cancelled, auto-renews, ended 2025-05-31 -> not in force: term end 2025-05-31 as is, no tier
#   urgent        Active, ends 2026-03-20, notice 10 -> deadline 2026-03-10, 9 days: urgent
#   soon          Active, ends 2026-04-10, notice 10 -> deadline 2026-03-31, 30 days: soon
#   later         Active, ends 2027-05-31, notice 30 -> deadline 2027-05-01, 426 days: no tier
TERM_TODAY = datetime.date(2026, 3, 1)


def build_term_contracts(cls):
    """The six contracts above, as attributes of `cls`, with the clock pinned to TERM_TODAY for the class."""
    pin_today(cls, TERM_TODAY)
    D = datetime.date
    provider = factories.ServiceProviderFactory(name="Term Co")

    def add(name, start, end, notice, auto_renew=False, status="Active"):
        return factories.ContractFactory(
            name=name,
            provider=provider,
            status=factories.status_for(Contract, status),
            start_date=start,
            end_date=end,
            notice_period_days=notice,
            auto_renew=auto_renew,
            renewal_term_months=12,
        )

    cls.rolled = add("rolled", D(2024, 6, 1), D(2025, 5, 31), 30, auto_renew=True)
    cls.may_fixed = add("may-fixed", D(2025, 6, 1), D(2026, 5, 15), 90)
    cls.cancelled_old = add("cancelled-old", D(2024, 6, 1), D(2025, 5, 31), 30, auto_renew=True, status="Cancelled")
    cls.urgent = add("urgent", D(2025, 1, 1), D(2026, 3, 20), 10)
    cls.soon = add("soon", D(2025, 1, 1), D(2026, 4, 10), 10)
    cls.later = add("later", D(2025, 1, 1), D(2027, 5, 31), 30)


class ComputedContractFiltersTest(TestCase):
    """current_term_end and renewal_tier filter on the figures as of today, in one query."""

    @classmethod
    def setUpTestData(cls):
        build_term_contracts(cls)

    def contracts(self, **params):
        result = filters.ContractFilterSet(params, Contract.objects.all())
        self.assertTrue(result.is_valid(), result.errors)
        return {contract.name for contract in result.qs}

    def test_term_end_month_finds_auto_renewed_contracts(self):
        self.assertEqual(
            self.contracts(current_term_end__year=2026, current_term_end__month=5), {"rolled", "may-fixed"}
        )
        # The stored end date alone misses the auto-renewed one.
        self.assertEqual(self.contracts(end_date__year=2026, end_date__month=5), {"may-fixed"})
        # May of any year: the cancelled contract keeps its 2025 end date, the later one ends in May 2027.
        self.assertEqual(self.contracts(current_term_end__month=5), {"rolled", "may-fixed", "cancelled-old", "later"})
        self.assertEqual(self.contracts(current_term_end__year=2025), {"cancelled-old"})

    def test_term_end_exact_and_ranges(self):
        self.assertEqual(self.contracts(current_term_end=["2026-05-31"]), {"rolled"})
        self.assertEqual(self.contracts(current_term_end=["2026-05-31", "2026-03-20"]), {"rolled", "urgent"})
        self.assertEqual(
            self.contracts(current_term_end__gte="2026-05-01", current_term_end__lte="2026-05-31"),
            {"rolled", "may-fixed"},
        )
        self.assertEqual(self.contracts(current_term_end__lte="2026-04-10"), {"cancelled-old", "urgent", "soon"})
        self.assertEqual(self.contracts(current_term_end__gte="2026-06-01"), {"later"})

    def test_renewal_tier(self):
        self.assertEqual(self.contracts(renewal_tier=["missed"]), {"may-fixed"})
        self.assertEqual(self.contracts(renewal_tier=["urgent"]), {"urgent"})
        self.assertEqual(self.contracts(renewal_tier=["soon"]), {"soon"})
        self.assertEqual(self.contracts(renewal_tier=["upcoming"]), {"rolled"})
        self.assertEqual(self.contracts(renewal_tier=["none"]), {"cancelled-old", "later"})
        self.assertEqual(self.contracts(renewal_tier=["urgent", "none"]), {"urgent", "cancelled-old", "later"})
        self.assertEqual(self.contracts(renewal_tier=["upcoming"], current_term_end__month=5), {"rolled"})

    def test_follows_the_clock(self):
        # A month later the auto-renewed contract's deadline (2026-05-01) is 30 days away: soon.
        pin_today(self, datetime.date(2026, 4, 1))
        self.assertEqual(self.contracts(renewal_tier=["soon"]), {"rolled"})
        # A year on, it has rolled into the term ending 2027-05-31.
        pin_today(self, datetime.date(2026, 6, 1))
        self.assertEqual(self.contracts(current_term_end=["2027-05-31"]), {"rolled", "later"})

    def test_bad_values_are_form_errors(self):
        for params in (
            {"current_term_end__month": "13"},
            {"current_term_end__month": "0"},
            {"current_term_end__year": "10000"},
            {"current_term_end__year": "soon"},
            {"current_term_end__gte": "2026-02-30"},
            {"current_term_end": ["not-a-date"]},
            {"renewal_tier": ["someday"]},
        ):
            with self.subTest(params=params):
                result = filters.ContractFilterSet(params, Contract.objects.all())
                self.assertFalse(result.is_valid())
                self.assertIn(next(iter(params)), result.errors)

    def test_one_query(self):
        result = filters.ContractFilterSet(
            {"current_term_end__month": "5", "current_term_end__gte": "2026-01-01", "renewal_tier": ["upcoming"]},
            Contract.objects.all(),
        )
        with CaptureQueriesContext(connection) as queries:
            names = [contract.name for contract in result.qs]
        self.assertEqual((names, len(queries)), (["rolled"], 1))


class ComputedContractFiltersRestAndUiTest(APITestCase):
    """?current_term_end__month=5 and ?renewal_tier= through the REST API and the contract list page."""

    @classmethod
    def setUpTestData(cls):
        build_term_contracts(cls)

    def setUp(self):
        super().setUp()
        self.add_permissions("nautobot_contracts.view_contract")

    def test_rest(self):
        url = reverse("plugins-api:nautobot_contracts-api:contract-list")
        response = self.client.get(f"{url}?current_term_end__year=2026&current_term_end__month=5", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual({row["name"] for row in response.json()["results"]}, {"rolled", "may-fixed"})
        rolled = next(row for row in response.json()["results"] if row["name"] == "rolled")
        self.assertEqual((rolled["current_term_end"], rolled["renewal_tier"]), ("2026-05-31", "upcoming"))
        response = self.client.get(f"{url}?renewal_tier=missed&renewal_tier=urgent", **self.header)
        self.assertEqual({row["name"] for row in response.json()["results"]}, {"may-fixed", "urgent"})
        for bad in ("current_term_end__month=13", "renewal_tier=someday", "current_term_end__gte=tomorrow"):
            with self.subTest(query=bad):
                response = self.client.get(f"{url}?{bad}", **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn(bad.split("=", 1)[0], response.json())


@override_settings(EXEMPT_VIEW_PERMISSIONS=[])
class ComputedContractFiltersUiTest(TestCase):
    """The contract list page filters on the computed figures, and its filter form offers them."""

    @classmethod
    def setUpTestData(cls):
        build_term_contracts(cls)

    def test_list_page(self):
        self.add_permissions("nautobot_contracts.view_contract")
        url = reverse("plugins:nautobot_contracts:contract_list")
        query = "current_term_end__year=2026&current_term_end__month=5&per_page=50"
        # The table's rows (what the list page loads with HTMX).
        response = self.client.get(f"{url}?{query}", headers={"HX-Request": "true"})
        self.assertHttpStatus(response, 200)
        rows = response.content.decode()
        for contract in (self.rolled, self.may_fixed):
            self.assertIn(contract.get_absolute_url(), rows)
        for contract in (self.cancelled_old, self.urgent, self.soon, self.later):
            self.assertNotIn(contract.get_absolute_url(), rows)
        # The full page's filter form offers the computed filters.
        page = self.client.get(f"{url}?{query}").content.decode()
        for field in ("current_term_end__gte", "current_term_end__lte", "current_term_end__month", "renewal_tier"):
            self.assertIn(f'name="{field}"', page)
