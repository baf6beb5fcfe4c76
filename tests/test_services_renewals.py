"""Term rules (services.terms) and the renewal check (services.renewals), with hand-worked examples."""

import datetime
from decimal import Decimal
import itertools

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase

from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.models import Contract
from nautobot_contracts.services import money, renewals, terms
from tests import factories

D = datetime.date
AS_OF = D(2026, 3, 1)


def make_contract(status="Active", **kwargs):
    """A saved contract; `status` by name."""
    return factories.ContractFactory(status=factories.status_for(Contract, status), **kwargs)


class MonthlyCostTest(TestCase):
    """monthly_cost = recurring_cost / months in the billing period; one-time is 0; Python and SQL agree."""

    def test_each_billing_period(self):
        expected = {
            BillingPeriodChoices.PERIOD_MONTHLY: Decimal("1200"),
            BillingPeriodChoices.PERIOD_QUARTERLY: Decimal("400"),
            BillingPeriodChoices.PERIOD_SEMIANNUAL: Decimal("200"),
            BillingPeriodChoices.PERIOD_ANNUAL: Decimal("100"),
            BillingPeriodChoices.PERIOD_ONE_TIME: Decimal("0"),
        }
        for period in expected:
            make_contract(name=f"c-{period}", billing_period=period, recurring_cost=Decimal("1200.00"))
        in_db = dict(Contract.objects.annotate(mc=terms.monthly_cost_expression()).values_list("billing_period", "mc"))
        for contract in Contract.objects.all():
            with self.subTest(period=contract.billing_period):
                self.assertEqual(terms.monthly_cost(contract), expected[contract.billing_period])
                self.assertEqual(in_db[contract.billing_period], expected[contract.billing_period])

    def test_thirds_are_not_rounded(self):
        contract = make_contract(billing_period=BillingPeriodChoices.PERIOD_QUARTERLY, recurring_cost=Decimal("100"))
        self.assertEqual(money.money_str(terms.monthly_cost(contract)), "33.33")
        self.assertNotEqual(terms.monthly_cost(contract), Decimal("33.33"))

    def test_round_half_up(self):
        self.assertEqual(money.money_str(Decimal(100) / 3), "33.33")
        self.assertEqual(money.money_str(Decimal("0.005")), "0.01")
        self.assertEqual(money.money_str(Decimal("0.025")), "0.03")  # half-even would give 0.02
        self.assertEqual(money.money_str(Decimal("2.675")), "2.68")
        self.assertEqual(money.money_str(Decimal("1234.5")), "1234.50")


class ActiveOnDateTest(TestCase):
    """Active status, started, and not ended unless it auto-renews; Pending/Cancelled/Expired never."""

    def assert_active(self, contract, as_of, expected):
        self.assertEqual(terms.is_active_on(contract, as_of), expected)
        in_db = Contract.objects.filter(terms.active_on_q(as_of), pk=contract.pk).exists()
        self.assertEqual(in_db, expected)

    def test_dates_inclusive(self):
        contract = make_contract(start_date=D(2026, 1, 1), end_date=D(2026, 12, 31))
        self.assert_active(contract, D(2025, 12, 31), False)
        self.assert_active(contract, D(2026, 1, 1), True)
        self.assert_active(contract, D(2026, 12, 31), True)
        self.assert_active(contract, D(2027, 1, 1), False)

    def test_auto_renew_stays_active_after_end(self):
        contract = make_contract(start_date=D(2024, 1, 1), end_date=D(2024, 12, 31), auto_renew=True)
        self.assert_active(contract, D(2023, 12, 31), False)
        self.assert_active(contract, D(2030, 6, 1), True)

    def test_other_statuses_never_active(self):
        for status in ("Pending", "Cancelled", "Expired"):
            contract = make_contract(
                status=status, name=status, start_date=D(2026, 1, 1), end_date=D(2026, 12, 31), auto_renew=True
            )
            with self.subTest(status=status):
                self.assert_active(contract, D(2026, 6, 1), False)
                self.assert_active(contract, D(2027, 6, 1), False)
                self.assertEqual(list(terms.active_contracts(D(2026, 6, 1))), [])


class CurrentTermEndTest(TestCase):
    """end_date rolled forward by whole renewal terms while before D, for auto-renewing contracts only."""

    def end(self, end_date, as_of, term=12, auto_renew=True):
        contract = Contract(end_date=end_date, renewal_term_months=term, auto_renew=auto_renew)
        return terms.current_term_end(contract, as_of)

    def test_not_rolled_when_not_past(self):
        self.assertEqual(self.end(D(2026, 6, 30), D(2026, 3, 1)), D(2026, 6, 30))
        self.assertEqual(self.end(D(2026, 3, 1), D(2026, 3, 1)), D(2026, 3, 1))

    def test_not_rolled_without_auto_renew(self):
        self.assertEqual(self.end(D(2025, 6, 30), D(2026, 3, 1), auto_renew=False), D(2025, 6, 30))

    def test_one_term(self):
        self.assertEqual(self.end(D(2025, 12, 31), D(2026, 3, 1)), D(2026, 12, 31))

    def test_several_terms(self):
        # 2022-06-30 + 12/24/36/48 months: 2023, 2024, 2025 are before 2026-03-01; 2026-06-30 is the first after.
        self.assertEqual(self.end(D(2022, 6, 30), D(2026, 3, 1)), D(2026, 6, 30))
        # Quarterly terms from 2025-01-15: Apr 15, Jul 15, Oct 15, Jan 15 2026, Apr 15 2026.
        self.assertEqual(self.end(D(2025, 1, 15), D(2026, 3, 1), term=3), D(2026, 4, 15))

    def test_lands_on_as_of(self):
        self.assertEqual(self.end(D(2025, 12, 1), D(2026, 3, 1), term=3), D(2026, 3, 1))

    def test_month_end_clamping_without_drift(self):
        # Monthly from Jan 31: Feb 28 (clamped), then Mar 31, not Mar 28.
        self.assertEqual(self.end(D(2026, 1, 31), D(2026, 2, 15), term=1), D(2026, 2, 28))
        self.assertEqual(self.end(D(2026, 1, 31), D(2026, 3, 1), term=1), D(2026, 3, 31))
        # Leap day: 2024-02-29 + 12 months = 2025-02-28 (before Mar 1), + 24 months = 2026-02-28.
        self.assertEqual(self.end(D(2024, 2, 29), D(2025, 3, 1)), D(2026, 2, 28))
        self.assertEqual(self.end(D(2024, 2, 29), D(2025, 2, 28)), D(2025, 2, 28))
        # Quarterly from Nov 30: Feb 28, May 30, Aug 30.
        self.assertEqual(self.end(D(2025, 11, 30), D(2026, 3, 1), term=3), D(2026, 5, 30))

    def test_notice_deadline(self):
        contract = Contract(end_date=D(2026, 6, 30), auto_renew=False, notice_period_days=30)
        self.assertEqual(terms.notice_deadline(contract, AS_OF), D(2026, 5, 31))
        contract.notice_period_days = None
        self.assertEqual(terms.notice_deadline(contract, AS_OF), D(2026, 6, 30))
        contract.notice_period_days = 0
        self.assertEqual(terms.notice_deadline(contract, AS_OF), D(2026, 6, 30))
        # Auto-renewing: from the current (rolled) term end, 2026-12-31, not the original end date.
        rolled = Contract(end_date=D(2025, 12, 31), auto_renew=True, renewal_term_months=12, notice_period_days=61)
        self.assertEqual(terms.notice_deadline(rolled, AS_OF), D(2026, 10, 31))


class TermExpressionsMatchPythonTest(TestCase):
    """current_term_end_expression / notice_deadline_expression give what the Python rules give, date by date."""

    def test_grid(self):
        ends = [
            D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30), D(2024, 8, 31), D(2024, 11, 30),
            D(2024, 12, 31), D(2025, 1, 15), D(2025, 2, 28), D(2025, 5, 31), D(2025, 6, 1), D(2026, 2, 28),
        ]  # fmt: skip
        provider = factories.ServiceProviderFactory()
        active = factories.status_for(Contract, "Active")
        contracts = Contract.objects.bulk_create(
            Contract(
                name=f"grid-{index}",
                provider=provider,
                status=active,
                currency="USD",
                start_date=D(2023, 1, 1),
                end_date=end,
                renewal_term_months=term,
                auto_renew=auto_renew,
                notice_period_days=(None, 0, 30, 95)[index % 4],
            )
            for index, (end, term, auto_renew) in enumerate(itertools.product(ends, (1, 3, 5, 12, 36), (True, False)))
        )
        self.assertEqual(len(contracts), 120)
        as_of_dates = [D(2024, 2, 29), D(2025, 2, 28), D(2025, 3, 1), D(2025, 12, 31), D(2026, 1, 31), D(2027, 7, 4)]
        for as_of in as_of_dates:
            in_db = {
                row["pk"]: (row["term_end"], row["deadline"])
                for row in Contract.objects.annotate(
                    term_end=terms.current_term_end_expression(as_of),
                    deadline=terms.notice_deadline_expression(as_of),
                ).values("pk", "term_end", "deadline")
            }
            for contract in contracts:
                expected = (terms.current_term_end(contract, as_of), terms.notice_deadline(contract, as_of))
                self.assertEqual(in_db[contract.pk], expected, f"{contract.end_date} {contract} on {as_of}")


class RenewalTierTest(TestCase):
    """Tiers by days to the notice deadline on 2026-03-01 (urgent 14, soon 30, window 90 by default)."""

    def tier(self, days_to_deadline, auto_renew=False, notice=0, **thresholds):
        end = AS_OF + datetime.timedelta(days=days_to_deadline + notice)
        contract = Contract(end_date=end, auto_renew=auto_renew, notice_period_days=notice, renewal_term_months=12)
        return terms.renewal_tier(contract, AS_OF, **thresholds)

    def test_boundaries(self):
        cases = {0: "urgent", 14: "urgent", 15: "soon", 30: "soon", 31: "upcoming", 90: "upcoming", 91: None}
        for days, expected in cases.items():
            with self.subTest(days=days):
                self.assertEqual(self.tier(days, notice=30), expected)

    def test_auto_renew_urgent_within_twice(self):
        self.assertEqual(self.tier(28, auto_renew=True, notice=10), "urgent")
        self.assertEqual(self.tier(29, auto_renew=True, notice=10), "soon")
        self.assertEqual(self.tier(28, auto_renew=False, notice=10), "soon")

    def test_missed_while_term_runs(self):
        self.assertEqual(self.tier(-1, notice=30), "missed")
        self.assertEqual(self.tier(-30, notice=30), "missed")  # the term ends today
        self.assertEqual(self.tier(-31, notice=30), None)  # the term has ended

    def test_thresholds_from_arguments_and_settings(self):
        self.assertEqual(self.tier(20, urgent_days=20), "urgent")
        self.assertEqual(self.tier(100, window_days=120), "upcoming")
        config = {"nautobot_contracts": {"renewal_urgent_days": 3, "renewal_soon_days": 5, "renewal_window_days": 7}}
        with override_settings(PLUGINS_CONFIG=config):
            self.assertEqual(self.tier(4), "soon")
            self.assertEqual(self.tier(7), "upcoming")
            self.assertEqual(self.tier(8), None)


class UpcomingRenewalsTest(TestCase):
    """services.renewals.upcoming_renewals over a set of contracts."""

    @classmethod
    def setUpTestData(cls):
        cls.acme = factories.ServiceProviderFactory(name="Acme")
        cls.globex = factories.ServiceProviderFactory(name="Globex")
        cls.tenant = factories.make_tenant("Ops")
        start = D(2025, 1, 1)

        def add(name, days_to_deadline, provider=None, notice=30, **kwargs):
            end = AS_OF + datetime.timedelta(days=days_to_deadline + notice)
            return make_contract(
                name=name,
                provider=provider or cls.acme,
                start_date=start,
                end_date=end,
                notice_period_days=notice,
                **kwargs,
            )

        add("missed-lapses", -5)
        add("missed-renews", -5, auto_renew=True, provider=cls.globex)
        add("urgent", 10, tenant=cls.tenant)
        add("urgent-auto", 25, auto_renew=True, recurring_cost=Decimal("50.00"), renewal_term_months=24)
        add("soon", 25)
        add("upcoming", 60, provider=cls.globex, currency="EUR")
        add("beyond-window", 120)
        add("pending", 10, status="Pending")
        add("cancelled", 10, status="Cancelled")
        add("expired", 10, status="Expired")
        # Ended and not auto-renewing: no longer active, never listed.
        make_contract(name="ended", start_date=start, end_date=D(2026, 2, 1))
        # Rolled over: ended 2025-03-15, auto-renews yearly, notice 30 -> term end 2026-03-15, deadline 2026-02-13.
        make_contract(
            name="rolled", start_date=D(2024, 3, 16), end_date=D(2025, 3, 15), auto_renew=True, notice_period_days=30
        )

    def names(self, items):
        return [item.contract.name for item in items]

    def test_ranking(self):
        items = renewals.upcoming_renewals(AS_OF)
        self.assertEqual(
            self.names(items),
            ["rolled", "missed-lapses", "missed-renews", "urgent", "soon", "urgent-auto", "upcoming"],
        )
        tiers = {item.contract.name: item.tier for item in items}
        self.assertEqual(
            tiers,
            {
                "rolled": "missed",
                "missed-lapses": "missed",
                "missed-renews": "missed",
                "urgent": "urgent",
                "urgent-auto": "urgent",
                "soon": "soon",
                "upcoming": "upcoming",
            },
        )
        rolled = items[0]
        self.assertEqual(rolled.term_end, D(2026, 3, 15))
        self.assertEqual(rolled.notice_deadline, D(2026, 2, 13))
        self.assertEqual(rolled.days_to_deadline, -16)
        urgent_auto = next(item for item in items if item.contract.name == "urgent-auto")
        self.assertEqual(urgent_auto.renewal_value, Decimal("1200.00"))  # 50 a month x 24 months
        self.assertEqual(renewals.tier_counts(items), {"missed": 3, "urgent": 2, "soon": 1, "upcoming": 1})

    def test_window_and_missed_inputs(self):
        self.assertEqual(
            self.names(renewals.upcoming_renewals(AS_OF, window_days=30, include_missed=False)),
            ["urgent", "soon", "urgent-auto"],
        )
        self.assertIn("beyond-window", self.names(renewals.upcoming_renewals(AS_OF, window_days=150)))
        # A zero window still lists what is urgent or soon: the window bounds "upcoming" only.
        self.assertEqual(
            self.names(renewals.upcoming_renewals(AS_OF, window_days=0, include_missed=False)),
            ["urgent", "soon", "urgent-auto"],
        )
        with self.assertRaises(ValueError):
            renewals.upcoming_renewals(AS_OF, window_days=-1)

    def test_provider_and_tenant_filters(self):
        globex = renewals.upcoming_renewals(AS_OF, providers=[self.globex])
        self.assertEqual(self.names(globex), ["missed-renews", "upcoming"])
        from nautobot_contracts.models import ServiceProvider  # pylint: disable=import-outside-toplevel

        self.assertEqual(
            len(renewals.upcoming_renewals(AS_OF, providers=ServiceProvider.objects.none())),
            len(renewals.upcoming_renewals(AS_OF)),
        )
        self.assertEqual(self.names(renewals.upcoming_renewals(AS_OF, tenant=self.tenant)), ["urgent"])

    def test_restricted_to_user(self):
        self.add_permissions("nautobot_contracts.view_contract", constraints={"provider__name": "Globex"})
        self.assertEqual(self.names(renewals.upcoming_renewals(AS_OF, user=self.user)), ["missed-renews", "upcoming"])

    def test_one_query_whatever_the_number_of_contracts(self):
        with CaptureQueriesContext(connection) as few:
            items = renewals.upcoming_renewals(AS_OF)
        for index in range(40):
            make_contract(
                name=f"more-{index}",
                provider=self.globex if index % 2 else self.acme,
                start_date=D(2025, 1, 1),
                end_date=AS_OF + datetime.timedelta(days=index),
                auto_renew=bool(index % 3),
            )
        with CaptureQueriesContext(connection) as many:
            more_items = renewals.upcoming_renewals(AS_OF)
        self.assertGreater(len(more_items), len(items) + 30)
        self.assertEqual(len(few), 1)
        self.assertEqual(len(many), 1)
