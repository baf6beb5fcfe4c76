"""Budgets by fiscal year (DOMAIN.md, "Billing and invoices"): actual, committed, remaining and used_pct.

Any number of budgets costs two queries: the contracts of their currencies and those contracts' invoices, as
`values()` rows; the billing periods come from `services.billing.schedule`, the one place they are generated.
"""

from collections import defaultdict
from dataclasses import dataclass
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Q
from django.db.models.functions import Coalesce

from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.services import billing
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.terms import ZERO

HUNDRED = Decimal("100")
PCT = Decimal("0.01")


def fiscal_year_start_month():
    """The month (1..12) in which fiscal years start (setting `fiscal_year_start_month`)."""
    return get_setting("fiscal_year_start_month")


def fiscal_year_bounds(fiscal_year, start_month=None):
    """(first day, last day) of a fiscal year: it starts on the 1st of `start_month` of `fiscal_year`."""
    start_month = fiscal_year_start_month() if start_month is None else start_month
    first = datetime.date(fiscal_year, start_month, 1)
    return first, billing.add_months(first, 12) - datetime.timedelta(days=1)


def fiscal_year_of(day, start_month=None):
    """The fiscal year (the calendar year it starts in) that contains `day`."""
    start_month = fiscal_year_start_month() if start_month is None else start_month
    return day.year if day.month >= start_month else day.year - 1


def fiscal_months(fiscal_year, start_month=None):
    """The first days of the twelve months of a fiscal year."""
    first, _ = fiscal_year_bounds(fiscal_year, start_month)
    return [billing.add_months(first, n) for n in range(12)]


@dataclass
class BudgetFigures:
    """A budget's figures on a date; `months` holds (first day, actual, uninvoiced expected) per fiscal month."""

    amount: Decimal
    actual: Decimal
    committed: Decimal
    months: list

    @property
    def remaining(self):
        """budget - committed (negative when over budget)."""
        return self.amount - self.committed

    @property
    def used_pct(self):
        """committed / budget x 100, rounded half-up to two decimals; None for a budget of zero."""
        if not self.amount:
            return None
        return (self.committed / self.amount * HUNDRED).quantize(PCT, rounding=ROUND_HALF_UP)

    @property
    def over_budget(self):
        """Committed spend exceeds the budget."""
        return self.committed > self.amount


def _in_scope(budget, row):
    return (
        row["currency"] == budget.currency
        and (budget.tenant_id is None or row["tenant_key"] == str(budget.tenant_id))
        and (not budget.cost_center or row["cost_center"] == budget.cost_center)
    )


def budget_figures(budgets, as_of, user=None, start_month=None):
    """{budget pk: BudgetFigures} on `as_of` over the contracts and invoices `user` may view: two queries.

    actual: non-Cancelled invoices dated in the fiscal year (and by `as_of`) of the contracts in scope;
    committed: actual + the expected amounts of billing periods (Active or Expired contracts in scope) that start in
    the fiscal year and have no invoice by `as_of`.
    """
    from nautobot_contracts.models import Contract, Invoice  # pylint: disable=import-outside-toplevel

    budgets = list(budgets)
    if not budgets:
        return {}
    bounds = {budget.pk: fiscal_year_bounds(budget.fiscal_year, start_month) for budget in budgets}
    earliest = min(first for first, _ in bounds.values())
    contracts = (
        restrict(Contract.objects.all(), user, "view")
        .filter(
            currency__in={budget.currency for budget in budgets}, start_date__lte=max(b[1] for b in bounds.values())
        )
        .order_by()
        .annotate(tenant_key=billing.uuid_text("tenant_id"))
    )
    contract_rows = list(billing.contract_rows(contracts, "tenant_key", "cost_center"))
    invoices = defaultdict(list)  # contract pk as text -> [(invoice_date, billed_from, amount)]
    if contract_rows:
        rows = (
            restrict(Invoice.objects.all(), user, "view")
            .filter(contract_id__in=contracts.values("pk"), invoice_date__lte=as_of)
            .exclude(status__name=billing.CANCELLED_STATUS)
            .annotate(
                billed_from=Coalesce(F("period_start"), F("invoice_date")),
                contract_key=billing.uuid_text("contract_id"),
            )
            .filter(Q(invoice_date__gte=earliest) | Q(billed_from__gte=earliest))
            .order_by()
            .values_list("contract_key", "invoice_date", "billed_from", "amount")
        )
        for contract_key, invoice_date, billed_from, amount in rows:
            invoices[contract_key].append((invoice_date, billed_from, amount))
    schedules = {}
    result = {}
    for budget in budgets:
        first, last = bounds[budget.pk]
        months = fiscal_months(budget.fiscal_year, start_month)
        actual_by_month = [ZERO] * 12
        expected_by_month = [ZERO] * 12
        for row in contract_rows:
            if not _in_scope(budget, row):
                continue
            key = str(row["pk"])
            for invoice_date, _, amount in invoices[key]:
                if first <= invoice_date <= last:
                    actual_by_month[_month_index(first, invoice_date)] += amount
            if row["status__name"] not in billing.RECONCILED_STATUSES:
                continue
            if (key, last) not in schedules:
                schedules[key, last] = billing.schedule(row, as_of, until=last)
            periods = schedules[key, last]
            invoiced = {billing.period_for(periods, billed_from) for _, billed_from, _ in invoices[key]}
            for period in periods:
                if first <= period.start <= last and period not in invoiced:
                    expected_by_month[_month_index(first, period.start)] += period.expected
        actual = sum(actual_by_month, ZERO)
        result[budget.pk] = BudgetFigures(
            amount=budget.amount,
            actual=actual,
            committed=actual + sum(expected_by_month, ZERO),
            months=list(zip(months, actual_by_month, expected_by_month, strict=True)),
        )
    return result


def _month_index(first, day):
    return (day.year - first.year) * 12 + day.month - first.month


def figures_for(budget, as_of, user=None):
    """The BudgetFigures of one budget."""
    return budget_figures([budget], as_of, user=user)[budget.pk]
