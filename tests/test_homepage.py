"""The home-page panels: content for the viewer, restriction, and a query count that does not grow with the data."""

from unittest import mock

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.extras.registry import registry

from nautobot_contracts import homepage
from nautobot_contracts.models import Contract
from tests import factories
from tests.test_dashboard import AS_OF, build_data_set, constrained_user

PINNED = mock.patch("nautobot_contracts.clock.today", return_value=AS_OF)


class HomePagePanelsTest(TestCase):
    """ "Contracts needing action" and "Monthly burn" on Nautobot's home page."""

    @classmethod
    def setUpTestData(cls):
        build_data_set()

    def setUp(self):
        super().setUp()
        PINNED.start()
        self.addCleanup(PINNED.stop)

    def request_for(self, user):
        request = RequestFactory().get("/")
        request.user = user
        return request

    def test_registered(self):
        panels = registry["homepage_layout"]["panels"]
        for name in ("Contracts needing action", "Monthly burn"):
            self.assertIn(name, panels)
            self.assertEqual(panels[name]["permissions"], {"nautobot_contracts.view_contract"})

    def test_home_page_superuser(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.get(reverse("home"))
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("Contracts needing action", content)
        # Soonest deadline first: Secret (missed on 2026-06-10), Backbone (urgent), Euro DC (soon).
        self.assertLess(content.index(">Secret<"), content.index(">Backbone<"))
        self.assertLess(content.index(">Backbone<"), content.index(">Euro DC<"))
        self.assertIn("5 days ago", content)
        self.assertIn("1310.00 USD", content)
        self.assertIn("1 currency unconverted (no exchange rate): GBP", content)

    def test_needing_action_rows(self):
        data = homepage.contracts_needing_action(self.request_for(constrained_user()))
        self.assertEqual([row["name"] for row in data["rows"]], ["Backbone", "Euro DC"])
        self.assertEqual([row["tier"] for row in data["rows"]], ["urgent", "soon"])
        self.assertEqual(data["rows"][0]["when"], "in 16 days")
        self.assertEqual(data["rows"][0]["value"], "1200.00 USD")

    def test_monthly_burn_restricted(self):
        data = homepage.monthly_burn(self.request_for(constrained_user()))
        self.assertEqual(data["rows"], [("EUR", "100.00"), ("GBP", "50.00"), ("USD", "200.00")])
        self.assertEqual(data["total"], "310.00 USD")
        self.assertEqual(data["unconverted"], ["GBP"])

    def test_hidden_without_contract_permission(self):
        self.add_permissions("dcim.view_device")
        content = self.client.get(reverse("home")).content.decode()
        self.assertNotIn("Contracts needing action", content)
        # The callbacks run for every viewer (Nautobot calls them before filtering panels): they show nothing.
        user = get_user_model().objects.create_user(username="nobody")
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(homepage.contracts_needing_action(self.request_for(user))["rows"], [])
            self.assertEqual(homepage.monthly_burn(self.request_for(user))["rows"], [])
        self.assertLessEqual(len(captured), 2)  # the permission lookup only, no contract query

    def queries(self, callback, user):
        request = self.request_for(user)
        callback(request)  # warm the permission cache
        with CaptureQueriesContext(connection) as captured:
            callback(request)
        return len(captured)

    def test_query_counts_constant(self):
        user = constrained_user("home-counter", constraints={"recurring_cost__lt": "1000"})
        before = {
            callback: self.queries(callback, user)
            for callback in (homepage.contracts_needing_action, homepage.monthly_burn)
        }
        active = factories.status_for(Contract, "Active")
        for index in range(45):
            factories.ContractFactory(
                name=f"Home extra {index}",
                currency=("USD", "EUR", "CHF")[index % 3],
                notice_period_days=170 + index % 10,  # deadlines within the urgent/soon tiers
                status=active,
            )
        for callback, count in before.items():
            with self.subTest(callback=callback.__name__):
                self.assertEqual(self.queries(callback, user), count)
                self.assertLessEqual(count, 3)
        self.assertEqual(len(homepage.contracts_needing_action(self.request_for(user))["rows"]), 10)
