"""Billing on the surfaces: contract REST fields, invoice REST fields, filters, the contract page's Billing panel."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.change_logging import web_request_context
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.users.models import User

from nautobot_contracts import filters
from nautobot_contracts.models import Contract, Invoice
from tests import factories
from tests.pinning import pin_today

API = "plugins-api:nautobot_contracts-api"
D = datetime.date
M = Decimal
AS_OF = D(2026, 3, 15)
BILLING_FIELDS = ("expected_to_date", "invoiced_to_date", "variance_to_date", "missing_periods")


def build(cls):
    """On 2026-03-15: A (100.00 monthly) has January invoiced 100.00 (ok), February 120.00 (over, Open and due
    2026-03-01: overdue 14 days), March pending; B (100.00 monthly) has nothing: January and February missing;
    C has January 80.00 (under)."""
    open_status = factories.status_for(Invoice, "Open")
    cls.a = factories.ContractFactory(name="A")
    cls.b = factories.ContractFactory(name="B")
    cls.c = factories.ContractFactory(name="C")
    cls.a_jan = factories.InvoiceFactory(contract=cls.a, period_start=D(2026, 1, 1), status=open_status)
    cls.a_feb = factories.InvoiceFactory(
        contract=cls.a,
        period_start=D(2026, 2, 1),
        period_end=D(2026, 2, 28),
        due_date=D(2026, 3, 1),
        amount=M("120.00"),
        status=open_status,
    )
    cls.c_jan = factories.InvoiceFactory(contract=cls.c, period_start=D(2026, 1, 1), amount=M("80.00"))


class ContractBillingAPITest(APITestCase):
    @classmethod
    def setUpTestData(cls):
        build(cls)

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)
        self.add_permissions("nautobot_contracts.view_contract", "nautobot_contracts.view_invoice")

    def get(self, url):
        response = self.client.get(url, **self.header)
        self.assertHttpStatus(response, 200)
        return response.json()

    def test_contract_fields(self):
        body = self.get(reverse(f"{API}:contract-list") + "?fields=name," + ",".join(BILLING_FIELDS))
        by_name = {row["name"]: row for row in body["results"]}
        self.assertEqual(
            by_name["A"],
            {
                "name": "A",
                "expected_to_date": "300.00",
                "invoiced_to_date": "220.00",
                "variance_to_date": "-80.00",
                "missing_periods": 0,
            },
        )
        self.assertEqual((by_name["B"]["missing_periods"], by_name["B"]["variance_to_date"]), (2, "-300.00"))
        detail = self.get(reverse(f"{API}:contract-detail", kwargs={"pk": self.c.pk}))
        self.assertEqual((detail["invoiced_to_date"], detail["missing_periods"]), ("80.00", 1))

    def test_invoice_fields(self):
        detail = self.get(reverse(f"{API}:invoice-detail", kwargs={"pk": self.a_feb.pk}))
        self.assertEqual(
            {key: detail[key] for key in ("billing_period_start", "expected_amount", "variance", "days_overdue")},
            {
                "billing_period_start": "2026-02-01",
                "expected_amount": "100.00",
                "variance": "20.00",
                "days_overdue": 14,
            },
        )
        detail = self.get(reverse(f"{API}:invoice-detail", kwargs={"pk": self.c_jan.pk}))
        self.assertEqual((detail["variance"], detail["days_overdue"]), ("-20.00", 0))

    def test_contract_list_query_count_does_not_grow(self):
        url = reverse(f"{API}:contract-list")

        def count(query=""):
            with CaptureQueriesContext(connection) as queries:
                self.get(url + query)
            return len(queries)

        count()
        small = count()
        for index in range(15):
            contract = factories.ContractFactory(name=f"More {index}")
            factories.InvoiceFactory(contract=contract)
        self.assertEqual(count(), small)
        # Leaving the billing fields out saves their two queries.
        self.assertEqual(count("?omit=" + ",".join(BILLING_FIELDS)), small - 2)

    def test_invoice_list_query_count_does_not_grow(self):
        url = reverse(f"{API}:invoice-list")

        def count():
            with CaptureQueriesContext(connection) as queries:
                self.get(url)
            return len(queries)

        count()
        small = count()
        for index in range(10):
            factories.InvoiceFactory(contract=factories.ContractFactory(name=f"Inv {index}"))
        self.assertEqual(count(), small)

    def test_filters(self):
        def names(url):
            return sorted(row.get("invoice_number") or row["name"] for row in self.get(url)["results"])

        contracts = reverse(f"{API}:contract-list")
        invoices = reverse(f"{API}:invoice-list")
        self.assertEqual(names(contracts + "?billing_state=missing"), ["B", "C"])  # C's February is missing too
        self.assertEqual(names(contracts + "?billing_state=over&billing_state=under"), ["A", "C"])
        self.assertEqual(names(invoices + "?overdue=true"), [self.a_feb.invoice_number])
        self.assertEqual(len(names(invoices + "?overdue=false")), 2)
        self.assertEqual(names(invoices + "?variance=over"), [self.a_feb.invoice_number])
        self.assertEqual(names(invoices + "?variance=under"), [self.c_jan.invoice_number])
        self.assertEqual(names(invoices + "?variance=ok"), [self.a_jan.invoice_number])

    def test_bad_filter_values_are_400(self):
        for url in (
            reverse(f"{API}:invoice-list") + "?overdue=maybe",
            reverse(f"{API}:invoice-list") + "?variance=wrong",
            reverse(f"{API}:contract-list") + "?billing_state=bogus",
        ):
            with self.subTest(url=url):
                self.assertHttpStatus(self.client.get(url, **self.header), 400)


class FilterSetTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        build(cls)

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)

    def test_billing_state_filterset(self):
        result = filters.ContractFilterSet({"billing_state": ["pending"]}, Contract.objects.all())
        self.assertEqual(sorted(c.name for c in result.qs), ["A", "B", "C"])  # March of each is within grace
        result = filters.InvoiceFilterSet({"variance": ["over", "under"]}, Invoice.objects.all())
        self.assertEqual({i.pk for i in result.qs}, {self.a_feb.pk, self.c_jan.pk})

    def test_billing_state_counts_only_invoices_the_ui_viewer_may_view(self):
        """Nautobot's UI list passes no request to the filter set: the viewer comes from the change context."""
        self.assertEqual(self.over_names(), ["A"])  # no viewer: every invoice counts (a_feb is over-billed)
        viewer = User.objects.create(username="billing-viewer")
        factories.grant(viewer, Contract)
        factories.grant(viewer, Invoice, constraints={"pk__in": [str(self.a_jan.pk), str(self.c_jan.pk)]})
        with web_request_context(viewer, context_detail="contract list"):
            self.assertEqual(self.over_names(), [])

    def over_names(self):
        return sorted(c.name for c in filters.ContractFilterSet({"billing_state": ["over"]}, Contract.objects.all()).qs)


class BillingPanelTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        build(cls)

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)
        self.user.is_superuser = True
        self.user.save()

    def page(self, contract):
        response = self.client.get(contract.get_absolute_url())
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def test_panel(self):
        content = self.page(self.a)
        self.assertIn("BILLING", content)  # the panel label, as Nautobot renders labels
        self.assertIn("Over-billed", content)
        self.assertIn("Pending", content)
        self.assertIn("20.00 USD", content)  # February's variance
        self.assertIn("Total to date", content)
        self.assertIn("-80.00 USD", content)
        self.assertIn("Missing", self.page(self.b))

    def test_panel_query_count_does_not_grow(self):
        def count():
            with CaptureQueriesContext(connection) as queries:
                self.page(self.a)
            return len(queries)

        count()
        small = count()
        for month in range(1, 4):
            for _ in range(3):  # overlapping invoices
                factories.InvoiceFactory(
                    contract=self.a, period_start=D(2026, month, 5), period_end=None, amount=M("10.00")
                )
        self.assertEqual(count(), small)


class InvoicePageTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        build(cls)

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)
        self.user.is_superuser = True
        self.user.save()

    def test_invoice_billing_panel(self):
        response = self.client.get(self.a_feb.get_absolute_url())
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("Over-billed", content)
        self.assertIn("100.00 USD", content)  # expected for February
        self.assertIn("20.00 USD (1 invoice(s) in the period)", content)
        self.assertIn("Days overdue", content)
