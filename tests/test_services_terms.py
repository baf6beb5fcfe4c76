"""term_figures: the one rule every surface uses for a contract's term end, deadline and tier."""

import datetime
import itertools

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


class TierExpressionsMatchPythonTest(TestCase):
    """renewal_tier_expression and term_figures_expressions give what renewal_tier and term_figures give."""

    @classmethod
    def setUpTestData(cls):
        provider = factories.ServiceProviderFactory()
        statuses = [factories.status_for(Contract, name) for name in ("Active", "Active", "Cancelled", "Pending")]
        # End dates a few days around each threshold of 2026-03-01 (urgent 14/28, soon 30, window 90, missed).
        offsets = (-400, -40, -31, -30, -5, 0, 13, 14, 15, 28, 29, 30, 31, 89, 90, 91, 200)
        cls.contracts = Contract.objects.bulk_create(
            Contract(
                name=f"tier-grid-{index}",
                provider=provider,
                status=statuses[index % 4],
                currency="USD",
                start_date=D(2024, 1, 1),
                end_date=D(2026, 3, 1) + datetime.timedelta(days=offset + (notice or 0)),
                renewal_term_months=(1, 12)[index % 2],
                auto_renew=auto_renew,
                notice_period_days=notice,
            )
            for index, (offset, auto_renew, notice) in enumerate(
                itertools.product(offsets, (True, False), (None, 0, 30))
            )
        )
        for contract in cls.contracts:
            contract.status = next(status for status in statuses if status.pk == contract.status_id)

    def test_grid(self):
        seen = set()
        for as_of, thresholds in (
            (D(2026, 3, 1), {}),
            (D(2026, 3, 1), {"urgent_days": 5, "soon_days": 40, "window_days": 60}),
            (D(2026, 4, 30), {}),
            (D(2027, 1, 31), {"urgent_days": 0, "soon_days": 0, "window_days": 0}),
        ):
            in_db = dict(
                Contract.objects.annotate(tier=terms.renewal_tier_expression(as_of, **thresholds)).values_list(
                    "pk", "tier"
                )
            )
            figures = {
                row["pk"]: (row["current_term_end"], row["renewal_tier"])
                for row in Contract.objects.annotate(**terms.term_figures_expressions(as_of)).values(
                    "pk", "current_term_end", "renewal_tier"
                )
            }
            for contract in self.contracts:
                expected = terms.renewal_tier(contract, as_of, **thresholds)
                seen.add(expected)
                self.assertEqual(in_db[contract.pk], expected, f"{contract.end_date} {contract} on {as_of}")
                python = terms.term_figures(contract, as_of)
                self.assertEqual(figures[contract.pk], (python.current_term_end, python.tier), f"{contract} {as_of}")
        self.assertEqual(seen, {*terms.TIERS, None})  # every branch of the rule was compared


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
