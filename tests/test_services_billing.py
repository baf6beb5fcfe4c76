"""services.billing: billing periods, expected/invoiced/variance/state per period, hand-worked."""

import datetime
from decimal import Decimal

from nautobot.apps.testing import TestCase
from nautobot.users.models import User

from nautobot_contracts.models import Contract, Invoice
from nautobot_contracts.services import billing, invoices
from tests import factories

D = datetime.date
M = Decimal


def spans(result):
    """(start, end, expected) of each period."""
    return [(period.start, period.end, period.expected) for period in result.periods]


class ScheduleTest(TestCase):
    """Each billing period kind, month-end clamping, pro-rating and auto-renewal, worked out by hand."""

    def figures(self, as_of, **kwargs):
        contract = factories.ContractFactory(**kwargs)
        return billing.billing_for(contract, as_of)

    def test_monthly(self):
        result = self.figures(D(2026, 3, 15), recurring_cost=M("100.00"), one_time_cost=M("50.00"))
        self.assertEqual(
            spans(result),
            [
                (D(2026, 1, 1), D(2026, 1, 31), M("150.00")),  # the one-time cost is expected in the first period
                (D(2026, 2, 1), D(2026, 2, 28), M("100.00")),
                (D(2026, 3, 1), D(2026, 3, 31), M("100.00")),
            ],
        )
        self.assertEqual(result.expected_to_date, M("350.00"))

    def test_quarterly(self):
        result = self.figures(D(2026, 7, 1), billing_period="quarterly", recurring_cost=M("300.00"))
        self.assertEqual(
            spans(result),
            [
                (D(2026, 1, 1), D(2026, 3, 31), M("300.00")),
                (D(2026, 4, 1), D(2026, 6, 30), M("300.00")),
                (D(2026, 7, 1), D(2026, 9, 30), M("300.00")),
            ],
        )

    def test_semiannual(self):
        result = self.figures(D(2026, 12, 31), billing_period="semiannual", recurring_cost=M("600.00"))
        self.assertEqual(
            spans(result),
            [(D(2026, 1, 1), D(2026, 6, 30), M("600.00")), (D(2026, 7, 1), D(2026, 12, 31), M("600.00"))],
        )

    def test_annual(self):
        result = self.figures(
            D(2026, 6, 1),
            billing_period="annual",
            recurring_cost=M("1200.00"),
            start_date=D(2025, 3, 1),
            end_date=D(2027, 2, 28),
        )
        self.assertEqual(
            spans(result),
            [(D(2025, 3, 1), D(2026, 2, 28), M("1200.00")), (D(2026, 3, 1), D(2027, 2, 28), M("1200.00"))],
        )

    def test_one_time_is_one_period_with_the_one_time_cost(self):
        result = self.figures(
            D(2026, 8, 1), billing_period="one_time", recurring_cost=M("100.00"), one_time_cost=M("5000.00")
        )
        self.assertEqual(spans(result), [(D(2026, 1, 1), D(2026, 12, 31), M("5000.00"))])

    def test_start_on_january_31_clamps_to_month_ends_without_drifting(self):
        result = self.figures(D(2026, 4, 15), start_date=D(2026, 1, 31))
        # Jan 31 + 1 month = Feb 28, + 2 months = Mar 31 (not Mar 28), + 3 months = Apr 30.
        self.assertEqual(
            spans(result),
            [
                (D(2026, 1, 31), D(2026, 2, 27), M("100.00")),
                (D(2026, 2, 28), D(2026, 3, 30), M("100.00")),
                (D(2026, 3, 31), D(2026, 4, 29), M("100.00")),
            ],
        )

    def test_last_period_cut_by_the_term_end_is_prorated_by_days(self):
        result = self.figures(D(2026, 4, 1), recurring_cost=M("310.00"), end_date=D(2026, 3, 15))
        # March 1..15 is 15 of March's 31 days: 310 x 15 / 31 = 150.00.
        self.assertEqual(spans(result)[-1], (D(2026, 3, 1), D(2026, 3, 15), M("150.00")))
        self.assertTrue(result.periods[-1].prorated)
        self.assertEqual(len(result.periods), 3)

    def test_prorated_amount_is_rounded_half_up(self):
        result = self.figures(D(2026, 2, 1), end_date=D(2026, 1, 10))
        # 100 x 10 / 31 = 32.2580... -> 32.26; a quarter cut to 45 of its 90 days is half of it.
        self.assertEqual(spans(result), [(D(2026, 1, 1), D(2026, 1, 10), M("32.26"))])
        quarter = self.figures(
            D(2026, 3, 1), billing_period="quarterly", recurring_cost=M("300.00"), end_date=D(2026, 2, 14)
        )
        self.assertEqual(spans(quarter), [(D(2026, 1, 1), D(2026, 2, 14), M("150.00"))])

    def test_auto_renewed_terms_continue(self):
        kwargs = {"start_date": D(2025, 1, 1), "end_date": D(2025, 12, 31), "renewal_term_months": 12}
        renewed = self.figures(D(2026, 2, 10), auto_renew=True, **kwargs)
        # Twelve periods of 2025, then January and February 2026 of the renewal term (ending 2026-12-31).
        self.assertEqual(len(renewed.periods), 14)
        self.assertEqual(spans(renewed)[-1], (D(2026, 2, 1), D(2026, 2, 28), M("100.00")))
        lapsed = self.figures(D(2026, 2, 10), auto_renew=False, **kwargs)
        self.assertEqual(len(lapsed.periods), 12)
        expired = self.figures(
            D(2026, 2, 10), auto_renew=True, status=factories.status_for(Contract, "Expired"), **kwargs
        )
        self.assertEqual(len(expired.periods), 12)  # an Expired contract did not roll into a new term

    def test_pending_and_cancelled_contracts_are_not_reconciled(self):
        for status in ("Pending", "Cancelled"):
            result = self.figures(D(2026, 3, 15), status=factories.status_for(Contract, status))
            self.assertEqual(result.periods, [], status)

    def test_not_started_yet(self):
        self.assertEqual(self.figures(D(2025, 12, 31)).periods, [])

    def test_add_months(self):
        self.assertEqual(billing.add_months(D(2024, 1, 31), 1), D(2024, 2, 29))
        self.assertEqual(billing.add_months(D(2026, 11, 30), 3), D(2027, 2, 28))
        self.assertEqual(billing.add_months(D(2026, 12, 15), 12), D(2027, 12, 15))


class StatesTest(TestCase):
    """Monthly 100.00 from 2026-01-01, checked on 2026-03-15 (grace 30 days unless told)."""

    AS_OF = D(2026, 3, 15)

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(recurring_cost=M("100.00"))
        cls.open = factories.status_for(Invoice, "Open")

    def invoice(self, period_start, amount, status=None):
        return factories.InvoiceFactory(
            contract=self.contract,
            period_start=period_start,
            period_end=None,
            amount=M(amount),
            status=status or self.open,
        )

    def states(self, grace_days=None):
        return [p.state for p in billing.billing_for(self.contract, self.AS_OF, grace_days=grace_days).periods]

    def test_grace_days(self):
        # Jan 1 started 73 days before, Feb 1 42 days, Mar 1 14 days.
        self.assertEqual(self.states(), ["missing", "missing", "pending"])
        self.assertEqual(self.states(grace_days=42), ["missing", "pending", "pending"])  # "more than" grace days
        self.assertEqual(self.states(grace_days=41), ["missing", "missing", "pending"])
        with self.settings(PLUGINS_CONFIG={"nautobot_contracts": {"invoice_grace_days": 90}}):
            self.assertEqual(self.states(), ["pending", "pending", "pending"])

    def test_each_variance_state(self):
        self.invoice(D(2026, 1, 1), "100.00")
        self.invoice(D(2026, 2, 10), "120.00")  # belongs to the period containing its period_start
        self.invoice(D(2026, 3, 1), "80.00")
        result = billing.billing_for(self.contract, self.AS_OF)
        self.assertEqual([p.state for p in result.periods], ["ok", "over", "under"])
        self.assertEqual([p.variance for p in result.periods], [M("0.00"), M("20.00"), M("-20.00")])
        self.assertEqual(
            (result.expected_to_date, result.invoiced_to_date, result.variance_to_date),
            (M("300.00"), M("300.00"), M("0.00")),
        )
        self.assertEqual(result.missing_periods, 0)

    def test_overlapping_invoices_are_all_counted(self):
        self.invoice(D(2026, 1, 1), "60.00")
        self.invoice(D(2026, 1, 15), "40.00")  # a split bill: together exactly what was expected
        self.invoice(D(2026, 2, 1), "100.00")
        self.invoice(D(2026, 2, 1), "100.00")  # billed twice
        self.invoice(D(2026, 3, 1), "100.00", status=factories.status_for(Invoice, "Cancelled"))  # not counted
        periods = billing.billing_for(self.contract, self.AS_OF).periods
        self.assertEqual([(p.invoiced, p.invoice_count, p.state) for p in periods[:2]], [
            (M("100.00"), 2, "ok"),
            (M("200.00"), 2, "over"),
        ])  # fmt: skip
        self.assertEqual((periods[2].invoiced, periods[2].state), (M("0"), "pending"))

    def test_invoice_without_service_period_is_placed_by_its_invoice_date(self):
        factories.InvoiceFactory(
            contract=self.contract, period_start=None, period_end=None, invoice_date=D(2026, 2, 3), amount=M("100")
        )
        self.assertEqual(self.states(), ["missing", "ok", "pending"])

    def test_invoices_outside_the_started_periods_are_left_out(self):
        self.invoice(D(2025, 12, 1), "100.00")  # before the term
        self.invoice(D(2026, 4, 1), "100.00")  # a period that has not started on the date
        result = billing.billing_for(self.contract, self.AS_OF)
        self.assertEqual(result.invoiced_to_date, M("0"))

    def test_zero_expected_without_invoice_is_ok(self):
        contract = factories.ContractFactory(recurring_cost=M("0.00"))
        self.assertEqual({p.state for p in billing.billing_for(contract, self.AS_OF).periods}, {"ok"})

    def test_overdue_totals(self):
        Invoice.objects.filter(pk=self.invoice(D(2026, 1, 1), "100.00").pk).update(due_date=D(2026, 3, 1))
        self.invoice(D(2026, 2, 1), "100.00")  # no due date: never overdue
        self.assertEqual(invoices.overdue_totals(self.AS_OF), (1, {"USD": M("100.00")}))
        self.assertEqual(invoices.overdue_totals(D(2026, 3, 1)), (0, {}))


class ManyContractsTest(TestCase):
    """The figures for many contracts cost two queries, whatever their number, and follow the user's permissions."""

    AS_OF = D(2026, 3, 15)

    def test_query_count_does_not_grow(self):
        for _ in range(3):
            contract = factories.ContractFactory()
            factories.InvoiceFactory(contract=contract)
        with self.assertNumQueries(2):
            small = billing.contract_billing(self.AS_OF)
        for _ in range(12):
            contract = factories.ContractFactory(billing_period="quarterly")
            factories.InvoiceFactory(contract=contract)
        with self.assertNumQueries(2):
            large = billing.contract_billing(self.AS_OF)
        self.assertEqual((len(small), len(large)), (3, 15))
        summary = billing.reconcile(self.AS_OF)
        # 3 monthly contracts x 3 periods + 12 quarterly x 1 (100.00 each); every invoice bills the first period.
        self.assertEqual(summary.periods_checked, 3 * 3 + 12)
        self.assertEqual(summary.counts["ok"], 3 + 12)
        self.assertEqual(summary.counts["missing"], 3)  # each monthly contract's February
        self.assertEqual(summary.counts["pending"], 3)  # and March
        self.assertEqual(summary.variance_to_date, {"USD": M("-600.00")})

    def test_restricted_to_the_user(self):
        mine = factories.ContractFactory(cost_center="mine")
        factories.ContractFactory(cost_center="other")
        user = User.objects.create_user(username="billing-viewer")
        factories.grant(user, Contract, constraints={"cost_center": "mine"})
        user = User.objects.get(pk=user.pk)
        self.assertEqual(list(billing.contract_billing(self.AS_OF, user=user)), [mine.pk])
        factories.InvoiceFactory(contract=mine)
        # The user may not view invoices: none is counted for them.
        self.assertEqual(billing.contract_billing(self.AS_OF, user=user)[mine.pk].invoiced_to_date, M("0"))
        self.assertEqual(billing.contract_billing(self.AS_OF)[mine.pk].invoiced_to_date, M("100.00"))
