"""Budgets on every surface: REST (budgets/), UI views, filters, CSV import, GraphQL, and bad input refused."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases, FilterTestCases, TestCase, ViewTestCases

from nautobot_contracts import filters
from nautobot_contracts.models import Budget, Invoice
from tests import factories
from tests.pinning import pin_today

API = "plugins-api:nautobot_contracts-api"
UI = "plugins:nautobot_contracts:{}"
D = datetime.date
M = Decimal
AS_OF = D(2026, 6, 15)


class BudgetAPITest(APIViewTestCases.APIViewTestCase):
    model = Budget
    choices_fields = ()
    update_data = {"amount": M("1234.50"), "description": "Revised"}
    bulk_update_data = {"description": "Bulk revised"}

    @classmethod
    def setUpTestData(cls):
        cls.tenant = factories.make_tenant("Budget tenant")
        for year in (2024, 2025, 2026):
            factories.BudgetFactory(name=f"Net {year}", fiscal_year=year)
        cls.create_data = [
            {"name": "New 1", "fiscal_year": 2027, "currency": "USD", "amount": M("500.00")},
            {"name": "New 2", "fiscal_year": 2027, "currency": "EUR", "amount": M("0.00"), "cost_center": "OPS"},
            {"name": "New 3", "fiscal_year": 2027, "currency": "USD", "amount": M("10.00"), "tenant": cls.tenant.pk},
        ]


class BudgetFiguresAPITest(APITestCase):
    """actual/committed/remaining/used_pct on the REST representation; a page costs the same queries at any size."""

    @classmethod
    def setUpTestData(cls):
        contract = factories.ContractFactory(recurring_cost=M("100.00"))
        factories.InvoiceFactory(
            contract=contract,
            invoice_date=D(2026, 2, 1),
            period_start=D(2026, 1, 1),
            status=factories.status_for(Invoice, "Open"),
        )
        cls.budget = factories.BudgetFactory(name="USD 2026", amount=M("1000.00"))

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)
        self.add_permissions(
            "nautobot_contracts.view_budget", "nautobot_contracts.view_contract", "nautobot_contracts.view_invoice"
        )

    def test_figures(self):
        response = self.client.get(reverse(f"{API}:budget-detail", kwargs={"pk": self.budget.pk}), **self.header)
        self.assertHttpStatus(response, 200)
        # Calendar fiscal year 2026: January invoiced 100.00; February..December expected 11 x 100.00 = 1100.00.
        self.assertEqual(
            {key: response.data[key] for key in ("actual", "committed", "remaining", "used_pct", "over_budget")},
            {
                "actual": "100.00",
                "committed": "1200.00",
                "remaining": "-200.00",
                "used_pct": "120.00",
                "over_budget": True,
            },
        )

    def test_figures_are_restricted_to_the_user(self):
        self.remove_permissions = None
        from nautobot.users.models import ObjectPermission  # pylint: disable=import-outside-toplevel

        ObjectPermission.objects.filter(object_types__model="invoice").delete()
        response = self.client.get(reverse(f"{API}:budget-detail", kwargs={"pk": self.budget.pk}), **self.header)
        # Without the invoices, January counts as uninvoiced: 12 x 100.00 committed, 0 actual.
        self.assertEqual((response.data["actual"], response.data["committed"]), ("0.00", "1200.00"))

    def test_list_query_count_does_not_grow(self):
        url = reverse(f"{API}:budget-list")

        def count():
            with CaptureQueriesContext(connection) as queries:
                self.assertHttpStatus(self.client.get(url, **self.header), 200)
            return len(queries)

        count()
        small = count()
        for index in range(10):
            factories.BudgetFactory(name=f"More {index}", fiscal_year=2000 + index)
        self.assertEqual(count(), small)
        with CaptureQueriesContext(connection) as sparse:
            self.client.get(f"{url}?fields=name,amount", **self.header)
        self.assertLess(len(sparse), small)  # figures left out: their two queries are not run


class BudgetBadInputAPITest(APITestCase):
    """Negative or non-numeric amount, non-ISO currency, fiscal year outside 1900..2200: 400 and nothing saved."""

    BAD = (
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"currency": "ABC"}, "currency"),
        ({"currency": "XAU"}, "currency"),
        ({"fiscal_year": 1899}, "fiscal_year"),
        ({"fiscal_year": 2201}, "fiscal_year"),
        ({"fiscal_year": "soon"}, "fiscal_year"),
    )

    def setUp(self):
        super().setUp()
        self.add_permissions("nautobot_contracts.add_budget", "nautobot_contracts.view_budget")

    def test_bad_values_refused(self):
        good = {"name": "Good", "fiscal_year": 2026, "currency": "USD", "amount": "10.00"}
        for change, field in self.BAD:
            with self.subTest(change=change):
                response = self.client.post(
                    reverse(f"{API}:budget-list"), {**good, **change}, format="json", **self.header
                )
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data)
        self.assertFalse(Budget.objects.exists())

    def test_bulk_with_one_bad_row_saves_nothing(self):
        rows = [
            {"name": "A", "fiscal_year": 2026, "currency": "USD", "amount": "10.00"},
            {"name": "B", "fiscal_year": 2026, "currency": "EUR", "amount": "-5"},
        ]
        response = self.client.post(reverse(f"{API}:budget-list"), rows, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertFalse(Budget.objects.exists())

    def test_same_scope_twice_is_refused_even_without_tenant(self):
        factories.BudgetFactory(name="First")
        body = {"name": "Second", "fiscal_year": 2026, "currency": "USD", "amount": "1.00"}
        response = self.client.post(reverse(f"{API}:budget-list"), body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertEqual(Budget.objects.count(), 1)

    def test_csv_with_a_bad_line_saves_nothing(self):
        text = "name,fiscal_year,currency,amount\nOk,2026,USD,1.00\nBad,1800,USD,1.00\n"
        response = self.client.post(reverse(f"{API}:budget-list"), text, content_type="text/csv", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertFalse(Budget.objects.exists())


class BudgetViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = Budget

    @classmethod
    def setUpTestData(cls):
        for year in (2024, 2025, 2026):
            factories.BudgetFactory(name=f"View {year}", fiscal_year=year)
        cls.form_data = {"name": "Form budget", "fiscal_year": 2030, "currency": "EUR", "amount": M("250.00")}
        cls.update_data = {"name": "Form budget 2", "fiscal_year": 2031, "currency": "EUR", "amount": M("300.00")}
        cls.bulk_edit_data = {"description": "Bulk edited", "cost_center": "NET"}
        cls.csv_data = (
            "name,fiscal_year,currency,amount,cost_center",
            "CSV 1,2028,USD,100.00,NET",
            "CSV 2,2028,usd,200.00,OPS",
        )

    def test_import_objects_from_csv(self):
        self.add_permissions("nautobot_contracts.add_budget", "nautobot_contracts.view_budget")
        response = self.client.post(reverse(UI.format("budget_import")), {"csv_data": "\n".join(self.csv_data)})
        self.assertHttpStatus(response, 200)
        self.assertEqual(set(Budget.objects.filter(fiscal_year=2028).values_list("currency", flat=True)), {"USD"})

    def test_bad_form_input_saves_nothing(self):
        self.add_permissions("nautobot_contracts.add_budget")
        good = {"name": "Bad", "fiscal_year": 2030, "currency": "USD", "amount": "1.00"}
        for change in (
            {"amount": "-1"},
            {"amount": "x"},
            {"currency": "ZZZ"},
            {"fiscal_year": 1800},
            {"fiscal_year": 3000},
        ):
            with self.subTest(change=change):
                response = self.client.post(reverse(UI.format("budget_add")), data={**good, **change})
                self.assertHttpStatus(response, 200)  # the form again, with the error
        self.assertFalse(Budget.objects.filter(name="Bad").exists())

    def test_bad_csv_line_saves_nothing(self):
        self.add_permissions("nautobot_contracts.add_budget", "nautobot_contracts.view_budget")
        text = "name,fiscal_year,currency,amount\nOk,2040,USD,1.00\nBad,2040,USD,-3\n"
        response = self.client.post(reverse(UI.format("budget_import")), {"csv_data": text})
        self.assertHttpStatus(response, 200)
        self.assertIn("Line 3", response.content.decode())
        self.assertFalse(Budget.objects.filter(fiscal_year=2040).exists())


class BudgetPageTest(TestCase):
    """The detail page shows the figures, the over-budget flag and the chart, in a bounded number of queries."""

    @classmethod
    def setUpTestData(cls):
        factories.ContractFactory(recurring_cost=M("100.00"))
        cls.budget = factories.BudgetFactory(name="Page budget", amount=M("1000.00"))

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)
        self.user.is_superuser = True
        self.user.save()

    def test_page(self):
        response = self.client.get(self.budget.get_absolute_url())
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("1200.00 USD", content)  # committed: twelve uninvoiced months
        self.assertIn("over budget", content)
        self.assertIn("Committed (cumulative)", content)  # the chart's line series
        self.assertIn("Jun 2026", content)

    def test_list_query_count_does_not_grow(self):
        url = reverse(UI.format("budget_list"))

        def count():
            with CaptureQueriesContext(connection) as queries:
                self.assertHttpStatus(self.client.get(url), 200)
            return len(queries)

        count()
        small = count()
        for index in range(8):
            factories.BudgetFactory(name=f"List {index}", fiscal_year=2010 + index)
        self.assertEqual(count(), small)


class BudgetFilterTest(FilterTestCases.FilterTestCase):
    queryset = Budget.objects.all()
    filterset = filters.BudgetFilterSet
    generic_filter_tests = (["name"], ["fiscal_year"], ["amount"], ["cost_center"], ["description"])

    @classmethod
    def setUpTestData(cls):
        tenant = factories.make_tenant("Filter tenant")
        for index, (year, currency, center) in enumerate(
            ((2025, "USD", "NET"), (2026, "EUR", "OPS"), (2026, "USD", ""), (2027, "GBP", "NET"))
        ):
            factories.BudgetFactory(
                name=f"Filter {index}",
                fiscal_year=year,
                currency=currency,
                cost_center=center,
                amount=M(100 * (index + 1)),
                description=f"Budget number {index}",
                tenant=tenant if index % 2 else None,
            )

    def test_currency_is_case_insensitive(self):
        self.assertEqual(self.filterset({"currency": ["usd"]}, self.queryset).qs.count(), 2)

    def test_tenant(self):
        self.assertEqual(self.filterset({"tenant": ["Filter tenant"]}, self.queryset).qs.count(), 2)

    def test_fiscal_year_out_of_range_is_a_form_error(self):
        self.assertFalse(self.filterset({"fiscal_year": ["99999999999"]}, self.queryset).is_valid())


class BudgetGraphQLTest(APITestCase):
    def test_query(self):
        factories.BudgetFactory(name="GQL", fiscal_year=2026)
        factories.BudgetFactory(name="Other", fiscal_year=2027)
        self.add_permissions("nautobot_contracts.view_budget")
        query = "{ budgets(fiscal_year: 2026) { name fiscal_year currency amount } }"
        response = self.client.post(reverse("graphql-api"), {"query": query}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertNotIn("errors", response.json())
        self.assertEqual(
            response.json()["data"]["budgets"],
            [{"name": "GQL", "fiscal_year": 2026, "currency": "USD", "amount": "10000.00"}],
        )
