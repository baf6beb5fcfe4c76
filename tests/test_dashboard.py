"""The Contracts dashboard: figures worked out by hand, restriction to the viewer, inputs, and a constant query count.

The data set (as of 2026-06-15; EUR at 1.10, no GBP rate):

| Contract   | Provider | Money                  | Term                        | Notice | Deadline   | Tier   |
| ---------- | -------- | ---------------------- | --------------------------- | ------ | ---------- | ------ |
| Core       | Acme     | 100 USD monthly        | 2026-01-01..2026-12-31      | 30     | 2026-12-01 | -      |
| Backbone   | Acme     | 1200 USD annual (auto) | 2025-07-01..2026-07-31      | 30     | 2026-07-01 | urgent |
| Euro DC    | Beta     | 300 EUR quarterly      | 2026-01-01..2026-08-31      | 60     | 2026-07-02 | soon   |
| London     | Beta     | 50 GBP monthly         | 2026-01-01..2027-03-31      | 0      | 2027-03-31 | -      |
| Secret     | Acme     | 1000 USD monthly       | 2026-01-01..2026-06-20      | 10     | 2026-06-10 | missed |
| Pending    | Acme     | 500 USD monthly        | pending: never active       |        |            |        |

The constrained user may view every contract except "Secret".
"""

import datetime
from decimal import Decimal
import json

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device, Location
from nautobot.extras.models import Status
from nautobot.tenancy.models import Tenant

from nautobot_contracts import clock
from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    ServiceProvider,
)
from nautobot_contracts.services import dashboard
from tests import factories
from tests.pinning import pin_today

AS_OF = datetime.date(2026, 6, 15)
URL = "plugins:nautobot_contracts:dashboard"
VISIBLE = ["Core", "Backbone", "Euro DC", "London", "Pending"]


def build_data_set():
    """The contracts of the table above, plus devices, invoices, rates and snapshots; returns a namespace dict."""
    acme = factories.ServiceProviderFactory(name="Acme")
    beta = factories.ServiceProviderFactory(name="Beta")
    tenant = factories.make_tenant("Dash tenant")
    d = datetime.date
    core = factories.ContractFactory(name="Core", provider=acme, notice_period_days=30)
    factories.ContractFactory(
        name="Backbone",
        provider=acme,
        recurring_cost=Decimal("1200.00"),
        billing_period=BillingPeriodChoices.PERIOD_ANNUAL,
        start_date=d(2025, 7, 1),
        end_date=d(2026, 7, 31),
        auto_renew=True,
        notice_period_days=30,
    )
    factories.ContractFactory(
        name="Euro DC",
        provider=beta,
        tenant=tenant,
        currency="EUR",
        recurring_cost=Decimal("300.00"),
        billing_period=BillingPeriodChoices.PERIOD_QUARTERLY,
        end_date=d(2026, 8, 31),
        notice_period_days=60,
    )
    factories.ContractFactory(
        name="London", provider=beta, currency="GBP", recurring_cost=Decimal("50.00"), end_date=d(2027, 3, 31)
    )
    secret = factories.ContractFactory(
        name="Secret", provider=acme, recurring_cost=Decimal("1000.00"), end_date=d(2026, 6, 20), notice_period_days=10
    )
    factories.ContractFactory(
        name="Pending",
        provider=acme,
        recurring_cost=Decimal("500.00"),
        status=factories.status_for(Contract, "Pending"),
    )
    factories.ExchangeRateFactory(currency="EUR", rate=Decimal("1.10"), effective_date=d(2026, 1, 1))

    region_one = factories.make_location("Region One", location_type_name="Region")
    region_two = factories.make_location("Region Two", location_type_name="Region")
    site_one = factories.make_location("Site One", parent=region_one)
    site_two = factories.make_location("Site Two", parent=region_two)
    covered = factories.make_device("dash-covered", location=site_one)
    factories.make_device("dash-1", location=site_one)
    factories.make_device("dash-2", location=site_two)
    factories.make_device("dash-3", location=site_two)
    factories.ContractAssignmentFactory(contract=core, assigned_object=covered)

    open_status = factories.status_for(Invoice, "Open")
    factories.InvoiceFactory(contract=core, status=open_status, due_date=d(2026, 6, 1))  # overdue
    factories.InvoiceFactory(contract=core, status=open_status, due_date=d(2026, 7, 1))  # not yet due
    factories.InvoiceFactory(contract=secret, status=open_status, due_date=d(2026, 5, 1))  # overdue, hidden

    factories.CostSnapshotFactory(snapshot_date=d(2025, 1, 1), currency="USD", monthly_burn=Decimal("1.00"))
    factories.CostSnapshotFactory(snapshot_date=d(2026, 5, 1), currency="USD", monthly_burn=Decimal("1000.00"))
    factories.CostSnapshotFactory(snapshot_date=d(2026, 6, 1), currency="USD", monthly_burn=Decimal("1100.00"))
    factories.CostSnapshotFactory(snapshot_date=d(2026, 6, 1), currency="EUR", monthly_burn=Decimal("90.00"))
    factories.CostSnapshotFactory(snapshot_date=d(2026, 7, 1), currency="USD", monthly_burn=Decimal("9.00"))
    return {"acme": acme, "beta": beta, "tenant": tenant, "regions": (region_one, region_two)}


def constrained_user(username="dash-viewer", constraints=None):
    """A user who may view everything the dashboard reads, except the contract "Secret"."""
    user = get_user_model().objects.create_user(username=username)
    factories.grant(user, Contract, constraints=constraints or {"name__in": VISIBLE})
    for model in (ServiceProvider, Invoice, ExchangeRate, CostSnapshot, ContractAssignment, Device, Location, Tenant):
        factories.grant(user, model)
    return get_user_model().objects.get(pk=user.pk)


class DashboardFiguresTest(TestCase):
    """services.dashboard.dashboard() against the hand-worked table."""

    @classmethod
    def setUpTestData(cls):
        cls.data = build_data_set()

    def test_superuser_figures(self):
        figures = dashboard.dashboard(AS_OF)
        self.assertEqual(figures.active_contracts, 5)
        self.assertEqual(
            figures.burn.by_currency, {"EUR": Decimal("100"), "GBP": Decimal("50"), "USD": Decimal("1200")}
        )
        self.assertEqual(figures.burn.total, Decimal("1310"))  # 1200 + 100 x 1.10; GBP has no rate
        self.assertEqual(figures.burn.unconverted, ["GBP"])
        # Backbone (1200) and Secret (12 x 1000) end within 90 days in USD, Euro DC (4 x 300) in EUR.
        self.assertEqual(figures.forecast_90d.total, Decimal("14520"))
        self.assertEqual(figures.tier_counts, {"missed": 1, "urgent": 1, "soon": 1, "upcoming": 0})
        self.assertEqual([item.contract.name for item in figures.needing_action], ["Secret", "Backbone", "Euro DC"])
        self.assertEqual(figures.uncovered_devices, 3)
        self.assertEqual(figures.overdue_invoices, 2)

    def test_renewals_by_month(self):
        months = dashboard.dashboard(AS_OF).renewals_by_month
        self.assertEqual(list(months)[0], "2026-06")
        self.assertEqual(list(months)[-1], "2027-05")
        self.assertEqual(len(months), 12)
        totals = {month: figure.total for month, figure in months.items() if figure.by_currency}
        self.assertEqual(
            totals,
            {
                "2026-06": Decimal("12000"),  # Secret ends 2026-06-20
                "2026-07": Decimal("1200"),  # Backbone rolls over on 2026-07-31 (its next end, 2027-07, is later)
                "2026-08": Decimal("1320"),  # Euro DC: 1200 EUR x 1.10
                "2026-12": Decimal("1200"),  # Core
                "2027-03": Decimal("0"),  # London: GBP, unconverted
            },
        )
        self.assertEqual(months["2027-03"].unconverted, ["GBP"])

    def test_rankings_history_and_table(self):
        figures = dashboard.dashboard(AS_OF)
        # Acme: Core 100 + Backbone 100 + Secret 1000 USD; Beta: 100 EUR x 1.10 (its GBP is unconverted).
        self.assertEqual(
            [(name, figure.total) for _, name, figure in figures.top_providers],
            [("Acme", Decimal("1200")), ("Beta", Decimal("110"))],
        )
        self.assertEqual(
            [(name, count) for _, name, count in figures.uncovered_by_location],
            [
                ("Region Two", 2),
                ("Region One", 1),
            ],
        )
        self.assertEqual(
            figures.cost_history,
            {
                "EUR": {datetime.date(2026, 6, 1): Decimal("90.00")},
                "USD": {datetime.date(2026, 5, 1): Decimal("1000.00"), datetime.date(2026, 6, 1): Decimal("1100.00")},
            },
        )
        rows = [(row.contract.name, row.notice_deadline, row.tier, row.renewal_value) for row in figures.deadlines]
        self.assertEqual(
            rows,
            [
                ("Backbone", datetime.date(2026, 7, 1), "urgent", Decimal("1200")),
                ("Euro DC", datetime.date(2026, 7, 2), "soon", Decimal("1200")),
                ("Core", datetime.date(2026, 12, 1), None, Decimal("1200")),
                ("London", datetime.date(2027, 3, 31), None, Decimal("600")),
            ],
        )

    def test_hidden_contract_contributes_to_no_figure(self):
        figures = dashboard.dashboard(AS_OF, user=constrained_user())
        self.assertEqual(figures.active_contracts, 4)
        self.assertEqual(figures.burn.by_currency["USD"], Decimal("200"))
        self.assertEqual(figures.burn.total, Decimal("310"))
        self.assertEqual(figures.forecast_90d.total, Decimal("2520"))  # 1200 USD + 1200 EUR x 1.10
        self.assertEqual(figures.tier_counts["missed"], 0)
        self.assertEqual(len(figures.needing_action), 2)
        self.assertEqual(figures.overdue_invoices, 1)
        self.assertFalse(figures.renewals_by_month["2026-06"].by_currency)
        self.assertEqual(figures.top_providers[0][2].total, Decimal("200"))
        self.assertNotIn("Secret", [row.contract.name for row in figures.deadlines])

    def test_hidden_provider_and_location_names(self):
        user = get_user_model().objects.create_user(username="no-names")
        factories.grant(user, Contract)
        factories.grant(user, Device)
        user = get_user_model().objects.get(pk=user.pk)
        figures = dashboard.dashboard(AS_OF, user=user)
        self.assertEqual({name for _, name, _ in figures.top_providers}, {dashboard.HIDDEN})
        self.assertEqual({name for _, name, _ in figures.uncovered_by_location}, {dashboard.HIDDEN})
        self.assertFalse(any(row.provider_visible for row in figures.deadlines))
        # No exchange-rate permission: EUR cannot be converted for this user.
        self.assertEqual(figures.burn.unconverted, ["EUR", "GBP"])

    def test_tenant_and_provider_filters(self):
        by_tenant = dashboard.dashboard(AS_OF, tenant=self.data["tenant"])
        self.assertEqual(by_tenant.active_contracts, 1)
        self.assertEqual(by_tenant.burn.by_currency, {"EUR": Decimal("100")})
        self.assertEqual(by_tenant.uncovered_devices, 0)  # no device of this tenant
        by_provider = dashboard.dashboard(AS_OF, provider=self.data["beta"])
        self.assertEqual(by_provider.active_contracts, 2)
        self.assertEqual(by_provider.overdue_invoices, 0)
        self.assertEqual(by_provider.uncovered_devices, 3)  # coverage is not per provider

    def test_burn_summary(self):
        summary = dashboard.burn_summary(AS_OF)
        self.assertEqual(summary.total, Decimal("1310"))
        self.assertEqual(summary.unconverted, ["GBP"])


class DashboardViewTest(TestCase):
    """The page: content, inputs, restriction and a query count that does not grow with the data."""

    @classmethod
    def setUpTestData(cls):
        cls.data = build_data_set()

    def get(self, **params):
        return self.client.get(reverse(URL), params)

    def test_page_content(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.get(as_of="2026-06-15")
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        for text in (
            "1310.00 USD",
            "1 currency unconverted",
            "14520.00 USD",
            "1 missed · 1 urgent · 1 soon",
            # Panel labels, which Nautobot shows in capitals.
            "MONTHLY BURN PER CURRENCY",
            "RENEWAL FORECAST PER MONTH",
            "TOP 10 PROVIDERS BY MONTHLY BURN",
            "DEVICES WITHOUT COVERAGE PER TOP-LEVEL LOCATION",
            "COST HISTORY",
            'id="contracts-renewals-by-month"',
            "Backbone",
            "Urgent",
            "1200.00 USD",
            "600.00 GBP",
        ):
            self.assertIn(text, content)
        self.assertIn(reverse("plugins:nautobot_contracts:contract_list"), content)
        # The chart data is Nautobot's JSON config: the renewals chart stacks per currency.
        self.assertIn('"stack": "total"', content)

    def test_defaults_to_today(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.get()
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context["as_of"], clock.today())

    def test_bad_inputs_are_400_with_a_message(self):
        self.user.is_superuser = True
        self.user.save()
        for params, message in (
            ({"as_of": "yesterday"}, "Enter a valid date."),
            ({"as_of": "9999-01-01"}, "Choose a date between"),
            ({"tenant": "not-a-uuid"}, "is not a valid UUID"),
            ({"provider": "00000000-0000-0000-0000-000000000000"}, "Select a valid choice"),
        ):
            with self.subTest(params=params):
                response = self.get(**params)
                self.assertHttpStatus(response, 400)
                self.assertIn(message, response.content.decode())
                self.assertNotIn("AT A GLANCE", response.content.decode())

    def test_filter_by_tenant(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.get(as_of="2026-06-15", tenant=str(self.data["tenant"].pk))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.context["dashboard"].active_contracts, 1)

    def test_constrained_user(self):
        self.client.force_login(constrained_user("page-viewer"))
        response = self.get(as_of="2026-06-15")
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("310.00 USD", content)
        self.assertNotIn("Secret", content)
        # A provider the user may not view cannot be chosen.
        hidden_provider = factories.ServiceProviderFactory(name="Invisible")
        user = get_user_model().objects.get(username="page-viewer")
        user.object_permissions.filter(object_types__model="serviceprovider").update(constraints={"name": "Acme"})
        response = self.get(provider=str(hidden_provider.pk))
        self.assertHttpStatus(response, 400)

    def test_login_required(self):
        self.client.logout()
        response = self.get()
        self.assertHttpStatus(response, 302)

    def count_queries(self):
        url = reverse(URL) + "?as_of=2026-06-15"
        self.client.get(url)  # warm caches (content types, permissions)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        return len(queries)

    def test_query_count_constant(self):
        # Secret is the only contract costing 1000 or more: hidden, while every extra contract below is visible.
        self.client.force_login(constrained_user("counting", constraints={"recurring_cost__lt": "1000"}))
        few = self.count_queries()
        active = Status.objects.get(name="Active")
        providers = [factories.ServiceProviderFactory(name=f"Extra {index}") for index in range(10)]
        for index in range(45):
            contract = factories.ContractFactory(
                name=f"Extra contract {index}",
                provider=providers[index % 10],
                currency=("USD", "EUR", "CHF")[index % 3],
                notice_period_days=index,
                auto_renew=bool(index % 2),
                status=active,
            )
            factories.InvoiceFactory(contract=contract, status=factories.status_for(Invoice, "Open"))
            factories.make_device(f"extra-{index}", location=factories.make_location(f"Extra site {index % 7}"))
        many = self.count_queries()
        self.assertEqual(few, many, "the dashboard's query count grows with the data")
        self.assertLessEqual(many, 20)  # 16 on Nautobot 3.2.7: session, user and permissions included


class ObjectPagePanelsTest(TestCase):
    """The provider page (burn, renewals chart, tier badges) and the contract page (invoices chart)."""

    @classmethod
    def setUpTestData(cls):
        cls.data = build_data_set()

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)

    def page(self, obj):
        response = self.client.get(obj.get_absolute_url())
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def chart_config(self, content, container_id):
        start = content.index(f'id="echarts-config-{container_id}"')
        start = content.index(">", start) + 1
        return json.loads(content[start : content.index("</script>", start)])

    def test_provider_page(self):
        self.user.is_superuser = True
        self.user.save()
        content = self.page(self.data["acme"])
        self.assertIn("MONTHLY BURN", content)
        self.assertIn("1200.00", content)  # Core 100 + Backbone 100 + Secret 1000 USD a month
        self.assertIn("Renewal tier", content)
        self.assertIn('<span class="badge bg-danger">Urgent</span>', content)  # Backbone
        config = self.chart_config(content, "provider-renewals-by-month")
        self.assertEqual(config["xAxis"]["data"][:2], ["2026-06", "2026-07"])
        self.assertEqual(len(config["xAxis"]["data"]), 12)
        usd = next(series for series in config["series"] if series["name"] == "USD")
        # Secret renews in June (12 x 1000), Backbone in July (1200), Core in December (1200).
        self.assertEqual(usd["data"][:2], [12000.0, 1200.0])
        self.assertEqual(usd["data"][6], 1200.0)
        self.assertEqual(usd["stack"], "total")

    def test_provider_page_restricted(self):
        self.client.force_login(constrained_user("provider-viewer"))
        content = self.page(self.data["acme"])
        self.assertNotIn("Secret", content)
        usd = next(s for s in self.chart_config(content, "provider-renewals-by-month")["series"] if s["name"] == "USD")
        self.assertEqual(usd["data"][0], 0.0)

    def test_contract_page_invoices_chart(self):
        self.user.is_superuser = True
        self.user.save()
        core = Contract.objects.get(name="Core")
        factories.InvoiceFactory(
            contract=core,
            period_start=datetime.date(2026, 2, 1),
            period_end=datetime.date(2026, 2, 28),
            amount=Decimal("99.50"),
        )
        factories.InvoiceFactory(
            contract=core,
            period_start=datetime.date(2026, 3, 1),
            period_end=datetime.date(2026, 3, 31),
            amount=Decimal("500.00"),
            status=factories.status_for(Invoice, "Cancelled"),
        )
        config = self.chart_config(self.page(core), "contract-invoices-by-month")
        # Two 100.00 invoices for January, 99.50 for February; the cancelled March invoice is left out. Core bills
        # 100.00 a month from 2026-01-01: on 2026-06-15 six periods have started, each expecting 100.00 (the line).
        months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
        self.assertEqual(config["xAxis"]["data"], months)
        self.assertEqual(config["series"][0]["name"], "Invoiced (USD)")
        self.assertEqual(config["series"][0]["data"], [200.0, 99.5, 0.0, 0.0, 0.0, 0.0])
        self.assertEqual((config["series"][1]["name"], config["series"][1]["type"]), ("Expected (USD)", "line"))
        self.assertEqual(config["series"][1]["data"], [100.0] * 6)

    def test_provider_page_query_count_constant(self):
        self.user.is_superuser = True
        self.user.save()
        acme = self.data["acme"]
        self.page(acme)
        with CaptureQueriesContext(connection) as before:
            self.page(acme)
        for index in range(20):
            factories.ContractFactory(name=f"Acme extra {index}", provider=acme, notice_period_days=170 + index)
        with CaptureQueriesContext(connection) as after:
            content = self.page(acme)
        self.assertIn("Acme extra 1", content)
        self.assertEqual(len(before), len(after))
