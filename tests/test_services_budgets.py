"""services.budgets: actual, committed, remaining and used_pct of budgets, with a fiscal year starting in April."""

import datetime
from decimal import Decimal

from nautobot.apps.testing import TestCase

from nautobot_contracts.models import Budget, Contract, Invoice
from nautobot_contracts.services import budgets
from tests import factories

D = datetime.date
M = Decimal
AS_OF = D(2026, 6, 15)
APRIL = {"nautobot_contracts": {"fiscal_year_start_month": 4}}


class FiscalYearTest(TestCase):
    def test_bounds_and_year_of_a_date(self):
        self.assertEqual(budgets.fiscal_year_bounds(2026, 4), (D(2026, 4, 1), D(2027, 3, 31)))
        self.assertEqual(budgets.fiscal_year_bounds(2026, 1), (D(2026, 1, 1), D(2026, 12, 31)))
        self.assertEqual(budgets.fiscal_year_of(D(2026, 3, 31), 4), 2025)
        self.assertEqual(budgets.fiscal_year_of(D(2026, 4, 1), 4), 2026)
        with self.settings(PLUGINS_CONFIG=APRIL):
            self.assertEqual(budgets.fiscal_year_bounds(2026), (D(2026, 4, 1), D(2027, 3, 31)))


class BudgetFiguresTest(TestCase):
    """Fiscal year 2026 runs April 2026 to March 2027; figures on 2026-06-15.

    Contract A (tenant T, 100.00 a month, 2026): invoices dated in the fiscal year 100.00 (Apr 2, for March),
    100.00 (May 1, for April), 110.00 (Jun 1, for May): actual 310.00. Its periods starting in the fiscal year are
    April..December; April and May are invoiced, June..December (7 x 100.00) are not: committed 1010.00.
    Contract B (no tenant, 50.00 a month, 2026, no invoices) adds 9 x 50.00 = 450.00 to a budget for every tenant.
    """

    @classmethod
    def setUpTestData(cls):
        cls.tenant = factories.make_tenant("T")
        contract_a = factories.ContractFactory(tenant=cls.tenant, cost_center="NET")
        open_status = factories.status_for(Invoice, "Open")

        def invoice(invoice_date, period_start, amount, contract=contract_a, status=open_status):
            factories.InvoiceFactory(
                contract=contract,
                invoice_date=invoice_date,
                period_start=period_start,
                period_end=None,
                amount=M(amount),
                status=status,
            )

        invoice(D(2026, 3, 5), D(2026, 2, 1), "100.00")  # dated before the fiscal year
        invoice(D(2026, 4, 2), D(2026, 3, 1), "100.00")
        invoice(D(2026, 5, 1), D(2026, 4, 1), "100.00")
        invoice(D(2026, 6, 1), D(2026, 5, 1), "110.00")
        invoice(D(2026, 6, 2), D(2026, 6, 1), "999.00", status=factories.status_for(Invoice, "Cancelled"))
        invoice(D(2026, 7, 1), D(2026, 7, 1), "100.00")  # dated after the as-of date: not yet known
        factories.ContractFactory(recurring_cost=M("50.00"))
        factories.ContractFactory(currency="EUR", tenant=cls.tenant)
        factories.ContractFactory(tenant=cls.tenant, status=factories.status_for(Contract, "Pending"))
        cls.tenant_budget = Budget.objects.create(
            name="T 2026", fiscal_year=2026, currency="USD", amount=M("3000.00"), tenant=cls.tenant
        )
        cls.all_budget = Budget.objects.create(name="All 2026", fiscal_year=2026, currency="USD", amount=M("1000.00"))
        cls.other_center = Budget.objects.create(
            name="Other center", fiscal_year=2026, currency="USD", amount=M("10.00"), cost_center="OPS"
        )

    def test_tenant_budget(self):
        with self.settings(PLUGINS_CONFIG=APRIL):
            figures = budgets.figures_for(self.tenant_budget, AS_OF)
        self.assertEqual(
            (figures.actual, figures.committed, figures.remaining), (M("310.00"), M("1010.00"), M("1990.00"))
        )
        self.assertEqual(figures.used_pct, M("33.67"))  # 1010 / 3000 = 33.666...%
        self.assertFalse(figures.over_budget)
        months = {first: (actual, expected) for first, actual, expected in figures.months}
        self.assertEqual(len(months), 12)
        self.assertEqual(months[D(2026, 4, 1)], (M("100.00"), M("0")))
        self.assertEqual(months[D(2026, 6, 1)], (M("110.00"), M("100.00")))
        self.assertEqual(months[D(2027, 1, 1)], (M("0"), M("0")))  # the term ended in December

    def test_budget_for_every_tenant_is_over(self):
        with self.settings(PLUGINS_CONFIG=APRIL):
            figures = budgets.figures_for(self.all_budget, AS_OF)
        self.assertEqual((figures.actual, figures.committed), (M("310.00"), M("1460.00")))
        self.assertEqual((figures.remaining, figures.used_pct, figures.over_budget), (M("-460.00"), M("146.00"), True))

    def test_cost_center_scope(self):
        with self.settings(PLUGINS_CONFIG=APRIL):
            figures = budgets.figures_for(self.other_center, AS_OF)
        self.assertEqual((figures.actual, figures.committed), (M("0"), M("0")))

    def test_calendar_fiscal_year(self):
        # From January: invoices dated Mar 5, Apr 2, May 1, Jun 1 (410.00); A's January and June..December periods
        # have no invoice (8 x 100.00).
        figures = budgets.figures_for(self.tenant_budget, AS_OF)
        self.assertEqual((figures.actual, figures.committed), (M("410.00"), M("1210.00")))

    def test_many_budgets_in_two_queries(self):
        rows = list(Budget.objects.all())
        with self.settings(PLUGINS_CONFIG=APRIL), self.assertNumQueries(2):
            figures = budgets.budget_figures(rows, AS_OF)
        self.assertEqual(len(figures), 3)
