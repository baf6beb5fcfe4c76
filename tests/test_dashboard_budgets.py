"""The dashboard's budgets table: this fiscal year's budgets with actual, committed, remaining and used %."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.urls import reverse
from nautobot.apps.testing import TestCase

from nautobot_contracts.models import Budget, Contract, Invoice
from nautobot_contracts.services import dashboard
from tests import factories
from tests.pinning import pin_today

AS_OF = datetime.date(2026, 3, 15)


class DashboardBudgetsTest(TestCase):
    """Hand-worked: 100.00 USD a month for 2026, January invoiced (100.00), against a 1000.00 budget for 2026.

    Actual = 100.00 (January's invoice, dated 2026-02-01); committed = 100.00 + the eleven periods without an invoice
    (February to December, 1100.00) = 1200.00; remaining = -200.00; used = 120.00 % (over budget).
    """

    @classmethod
    def setUpTestData(cls):
        contract = factories.ContractFactory(name="Core")  # monthly 100.00 USD, 2026-01-01..2026-12-31
        factories.InvoiceFactory(contract=contract, amount=Decimal("100.00"))  # January, dated 2026-02-01
        cls.budget = factories.BudgetFactory(name="Network 2026", amount=Decimal("1000.00"))
        factories.BudgetFactory(name="Network 2025", fiscal_year=2025)  # another fiscal year: not shown

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)

    def test_figures(self):
        ((budget, figure),) = dashboard.dashboard(AS_OF).budgets
        self.assertEqual(budget, self.budget)
        self.assertEqual((figure.actual, figure.committed), (Decimal("100.00"), Decimal("1200.00")))
        self.assertEqual(
            (figure.remaining, figure.used_pct, figure.over_budget), (Decimal("-200.00"), Decimal("120.00"), True)
        )

    def test_table_on_the_page(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.get(reverse("plugins:nautobot_contracts:dashboard"), {"as_of": AS_OF.isoformat()})
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("BUDGETS THIS FISCAL YEAR", content.upper())
        self.assertIn("Network 2026", content)
        self.assertNotIn("Network 2025", content)
        self.assertIn("120.00% over budget", content)
        self.assertIn("-200.00 USD", content)

    def test_restricted(self):
        user = get_user_model().objects.create_user(username="no-budgets")
        factories.grant(user, Contract)
        factories.grant(user, Invoice)
        self.assertEqual(dashboard.dashboard(AS_OF, user=user).budgets, [])
        factories.grant(user, Budget)
        user = get_user_model().objects.get(pk=user.pk)
        self.assertEqual([budget for budget, _ in dashboard.dashboard(AS_OF, user=user).budgets], [self.budget])
