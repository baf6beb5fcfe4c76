"""GraphQL: the app's models are exposed through Nautobot's "graphql" feature and their FilterSets."""

import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import APITestCase
from nautobot.users.models import ObjectPermission

from nautobot_contracts.models import Contract
from tests import factories
from tests.test_filters import build_term_contracts

ISSUE_QUERY = """
{
  contracts(end_date__lte: "2026-12-31") {
    name provider { name } end_date recurring_cost billing_period currency auto_renew
  }
  cost_snapshots(currency: "USD") {
    snapshot_date monthly_burn renewal_90d active_contract_count
  }
}
"""


class GraphQLTest(APITestCase):
    @classmethod
    def setUpTestData(cls):
        acme = factories.ServiceProviderFactory(name="Acme")
        globex = factories.ServiceProviderFactory(name="Globex")
        factories.ContractFactory(
            name="Support 2026",
            provider=acme,
            end_date=datetime.date(2026, 12, 31),
            recurring_cost=Decimal("1200.00"),
            billing_period="annual",
            auto_renew=True,
        )
        factories.ContractFactory(
            name="Colo 2026", provider=globex, end_date=datetime.date(2026, 6, 30), currency="EUR"
        )
        factories.ContractFactory(name="Support 2027", provider=acme, end_date=datetime.date(2027, 1, 1))
        factories.CostSnapshotFactory(
            snapshot_date=datetime.date(2026, 5, 1),
            monthly_burn=Decimal("1234.50"),
            renewal_90d=Decimal("300.00"),
            active_contract_count=7,
        )
        factories.CostSnapshotFactory(snapshot_date=datetime.date(2026, 5, 1), currency="EUR")

    def query(self, query):
        response = self.client.post(reverse("graphql-api"), {"query": query}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        body = response.json()
        self.assertNotIn("errors", body)
        return body["data"]

    def test_issue_query(self):
        self.user.is_superuser = True
        self.user.save()
        data = self.query(ISSUE_QUERY)
        self.assertEqual(
            sorted(data["contracts"], key=lambda c: c["name"]),
            [
                {
                    "name": "Colo 2026",
                    "provider": {"name": "Globex"},
                    "end_date": "2026-06-30",
                    "recurring_cost": "100.00",
                    # graphene-django renders choice fields as enums (upper-case names), as for core models.
                    "billing_period": "MONTHLY",
                    "currency": "EUR",
                    "auto_renew": False,
                },
                {
                    "name": "Support 2026",
                    "provider": {"name": "Acme"},
                    "end_date": "2026-12-31",
                    "recurring_cost": "1200.00",
                    "billing_period": "ANNUAL",
                    "currency": "USD",
                    "auto_renew": True,
                },
            ],
        )
        self.assertEqual(
            data["cost_snapshots"],
            [
                {
                    "snapshot_date": "2026-05-01",
                    "monthly_burn": "1234.50",
                    "renewal_90d": "300.00",
                    "active_contract_count": 7,
                }
            ],
        )

    def test_filters_match_the_rest_filtersets(self):
        self.user.is_superuser = True
        self.user.save()
        data = self.query('{ contracts(provider: "Acme", currency: "usd", end_date__year: 2027) { name } }')
        self.assertEqual(data["contracts"], [{"name": "Support 2027"}])
        data = self.query('{ cost_snapshots(currency: "eur") { currency } }')
        self.assertEqual(data["cost_snapshots"], [{"currency": "EUR"}])

    def test_every_model_is_exposed(self):
        self.user.is_superuser = True
        self.user.save()
        for field in (
            "service_providers",
            "contracts",
            "invoices",
            "contract_assignments",
            "contract_attachments",
            "invoice_attachments",
            "cost_snapshots",
            "exchange_rates",
        ):
            with self.subTest(field=field):
                self.assertIsInstance(self.query(f"{{ {field} {{ id }} }}")[field], list)

    def test_results_honour_object_permissions(self):
        permission = ObjectPermission.objects.create(
            name="Acme contracts only", actions=["view"], constraints={"provider__name": "Acme"}
        )
        permission.users.add(self.user)
        permission.object_types.add(ContentType.objects.get_for_model(Contract))
        data = self.query("{ contracts { name } }")
        self.assertEqual(sorted(c["name"] for c in data["contracts"]), ["Support 2026", "Support 2027"])


class ComputedContractFiltersGraphQLTest(APITestCase):
    """current_term_end and renewal_tier as GraphQL arguments (the same ContractFilterSet), as of a pinned today."""

    @classmethod
    def setUpTestData(cls):
        build_term_contracts(cls)  # today pinned to 2026-03-01; worked-out figures in tests/test_filters.py

    def names(self, arguments):
        self.add_permissions("nautobot_contracts.view_contract")
        query = f"{{ contracts({arguments}) {{ name }} }}"
        response = self.client.post(reverse("graphql-api"), {"query": query}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        body = response.json()
        self.assertNotIn("errors", body)
        return {contract["name"] for contract in body["data"]["contracts"]}

    def test_term_end_month_and_tier(self):
        self.assertEqual(
            self.names("current_term_end__year: 2026, current_term_end__month: 5"), {"rolled", "may-fixed"}
        )
        self.assertEqual(self.names('current_term_end__gte: "2026-05-20"'), {"rolled", "later"})
        self.assertEqual(self.names('renewal_tier: ["missed", "urgent"]'), {"may-fixed", "urgent"})
        self.assertEqual(self.names('renewal_tier: ["none"]'), {"cancelled-old", "later"})

    def test_bad_value_is_an_error(self):
        self.add_permissions("nautobot_contracts.view_contract")
        query = "{ contracts(current_term_end__month: 13) { name } }"
        response = self.client.post(reverse("graphql-api"), {"query": query}, format="json", **self.header)
        body = response.json()
        self.assertIn("errors", body)
        self.assertIn("current_term_end__month", str(body["errors"]))
