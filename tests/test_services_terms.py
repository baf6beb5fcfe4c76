"""term_figures: the one rule every surface uses for a contract's term end, deadline and tier."""

import datetime

from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase

from nautobot_contracts.models import Contract
from nautobot_contracts.services import terms
from tests import factories

D = datetime.date


class TermFiguresTest(TestCase):
    """In force: rolled term end, deadline, tier. Otherwise: the end date as it is, and nothing to act on."""

    def contract(self, status="Active", **fields):
        defaults = {
            "start_date": D(2025, 1, 1),
            "end_date": D(2025, 12, 31),
            "auto_renew": True,
            "notice_period_days": 30,
            "renewal_term_months": 12,
        }
        defaults.update(fields)
        return factories.ContractFactory(status=factories.status_for(Contract, status), **defaults)

    def test_active_auto_renewing_contract_rolls_forward(self):
        figures = terms.term_figures(self.contract(), D(2026, 12, 10))
        self.assertTrue(figures.active)
        self.assertEqual(figures.current_term_end, D(2026, 12, 31))
        self.assertEqual(figures.notice_deadline, D(2026, 12, 1))
        self.assertEqual(figures.days_to_deadline, -9)
        self.assertEqual(figures.tier, terms.TIER_MISSED)

    def test_contract_not_in_force_is_not_rolled(self):
        for status in ("Cancelled", "Expired", "Pending"):
            with self.subTest(status=status):
                figures = terms.term_figures(self.contract(status=status), D(2026, 12, 10))
                self.assertEqual(figures, terms.TermFigures(False, D(2025, 12, 31), None, None, None))

    def test_lapsed_contract_without_auto_renew(self):
        figures = terms.term_figures(self.contract(auto_renew=False), D(2026, 1, 5))
        self.assertEqual(figures, terms.TermFigures(False, D(2025, 12, 31), None, None, None))


class ContractApiTermFiguresTest(APITestCase):
    """The REST representation shows the same figures as the service, including for a cancelled contract."""

    def test_cancelled_auto_renewing_contract(self):
        self.add_permissions("nautobot_contracts.view_contract")
        contract = factories.ContractFactory(
            status=factories.status_for(Contract, "Cancelled"),
            start_date=D(2020, 1, 1),
            end_date=D(2020, 12, 31),
            auto_renew=True,
            notice_period_days=30,
        )
        url = reverse("plugins-api:nautobot_contracts-api:contract-detail", kwargs={"pk": contract.pk})
        response = self.client.get(url, **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["current_term_end"], "2020-12-31")
        self.assertIsNone(response.json()["notice_deadline"])
        self.assertIsNone(response.data["renewal_tier"])
