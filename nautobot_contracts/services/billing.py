"""Billing schedule and reconciliation (DOMAIN.md, "Billing and invoices").

The billing periods of a contract are generated in Python from one `values()` row per contract, and its invoices
come from one more `values()` query: any number of contracts costs two queries (`contract_billing`), never one per
contract. Figures are Decimals; the expected amount of a period is rounded half-up to cents (it is what the bill
should say), sums of periods are not rounded again.
"""

import calendar
from collections import defaultdict
from dataclasses import dataclass
import datetime
from decimal import Decimal
from types import SimpleNamespace
import uuid

from django.db.models import F, Q, TextField
from django.db.models.functions import Cast, Coalesce

from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.money import round_money
from nautobot_contracts.services.terms import ACTIVE_STATUS, ZERO, current_term_end

EXPIRED_STATUS = "Expired"
CANCELLED_STATUS = "Cancelled"
# Billing is reconciled for these contract statuses only (never Pending or Cancelled).
RECONCILED_STATUSES = (ACTIVE_STATUS, EXPIRED_STATUS)

STATE_MISSING = "missing"
STATE_PENDING = "pending"
STATE_OK = "ok"
STATE_OVER = "over"
STATE_UNDER = "under"
STATES = (STATE_MISSING, STATE_PENDING, STATE_OK, STATE_OVER, STATE_UNDER)
# States a person must look at (the Reconcile invoices Job warns about these).
PROBLEM_STATES = (STATE_MISSING, STATE_OVER, STATE_UNDER)
VARIANCE_STATES = (STATE_OK, STATE_OVER, STATE_UNDER)

# The contract columns the schedule needs; the status comes as its name.
CONTRACT_VALUES = (
    "pk", "start_date", "end_date", "billing_period", "recurring_cost", "one_time_cost", "auto_renew",
    "renewal_term_months", "currency", "status__name", "name", "provider__name",
)  # fmt: skip


def grace_days_setting():
    """Days after a period's start before a period without an invoice counts as missing (`invoice_grace_days`)."""
    return get_setting("invoice_grace_days")


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day, months):
    """`day` + `months` calendar months, clamped to the end of a shorter month (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if day.day <= 28:  # every month has these days
        return datetime.date(year, month, day.day)
    # calendar.monthrange is slow (it computes a weekday); the length of a month is all that is needed.
    last = 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]
    return datetime.date(year, month, min(day.day, last))


class BillingPeriod:
    """One billing period of a contract with what was expected, what was invoiced and its state.

    A plain class with __slots__ rather than a dataclass: a reconciliation builds one per period (about 100,000
    over the benchmark's 20,000 contracts), and the generated __init__ with a list default was its largest cost.
    """

    __slots__ = (
        "contract_id", "index", "start", "end", "expected", "prorated", "invoiced", "invoice_count", "invoice_ids",
        "state",
    )  # fmt: skip

    def __init__(self, contract_id, index, start, end, expected, prorated=False):  # pylint: disable=too-many-arguments
        self.contract_id = contract_id
        self.index = index
        self.start = start
        self.end = end
        self.expected = expected
        self.prorated = prorated
        self.invoiced = ZERO
        # Invoices counted here (two or more: overlapping bills, credit notes); their ids only when asked for.
        self.invoice_count = 0
        self.invoice_ids = None
        self.state = STATE_PENDING

    def __repr__(self):
        return (
            f"BillingPeriod({self.start}..{self.end}, expected={self.expected}, invoiced={self.invoiced}, {self.state})"
        )

    @property
    def variance(self):
        """invoiced - expected."""
        return self.invoiced - self.expected


@dataclass
class ContractBilling:
    """A contract's started billing periods on a date, and their totals."""

    contract_id: object
    currency: str
    periods: list
    name: str = ""
    provider: str = ""

    @property
    def expected_to_date(self):
        """Sum of the (rounded) expected amounts of the started periods."""
        return sum((period.expected for period in self.periods), ZERO)

    @property
    def invoiced_to_date(self):
        """Sum of the invoices counted in the started periods."""
        return sum((period.invoiced for period in self.periods), ZERO)

    @property
    def variance_to_date(self):
        """invoiced_to_date - expected_to_date."""
        return self.invoiced_to_date - self.expected_to_date

    def count(self, state):
        """Number of periods in `state`."""
        return sum(1 for period in self.periods if period.state == state)

    @property
    def missing_periods(self):
        """Number of missing periods."""
        return self.count(STATE_MISSING)

    @property
    def problem_periods(self):
        """Periods that are missing, over- or under-billed."""
        return [period for period in self.periods if period.state in PROBLEM_STATES]


def term_end_for_billing(row, as_of):
    """The last day billed: the current term end of an Active contract (auto-renewed terms continue), else end_date."""
    if row["status__name"] != ACTIVE_STATUS or not row["auto_renew"] or row["end_date"] >= as_of:
        return row["end_date"]  # what current_term_end gives too, without building its argument
    # current_term_end reads attributes; a values() row has keys.
    terms = SimpleNamespace(
        end_date=row["end_date"], auto_renew=row["auto_renew"], renewal_term_months=row["renewal_term_months"]
    )
    return current_term_end(terms, as_of)


def schedule(row, as_of, until=None):
    """The billing periods of one contract row (`CONTRACT_VALUES`) that start on or before `until` (default as_of).

    Period k starts at start_date + k x m months (clamped to month ends, always counted from start_date so Jan 31
    gives Feb 28 then Mar 31) and ends the day before period k+1, or at the term end, where it is pro-rated by
    days. A one-time contract has one period, its whole term. `one_time_cost` is expected in the first period.
    """
    until = as_of if until is None else until
    start = row["start_date"]
    term_end = term_end_for_billing(row, as_of)
    one_time_cost = Decimal(row["one_time_cost"] or 0)
    months = BillingPeriodChoices.MONTHS.get(row["billing_period"])
    if start > until or term_end < start:
        return []
    if not months:
        return [BillingPeriod(row["pk"], 0, start, term_end, round_money(one_time_cost))]
    recurring = Decimal(row["recurring_cost"] or 0)
    full_amount = round_money(recurring)  # the same for every whole period: round it once
    pk = row["pk"]
    one_day = datetime.timedelta(days=1)
    periods = []
    index = 0
    period_start = start
    last = min(until, term_end)
    while period_start <= last:
        next_start = add_months(start, (index + 1) * months)
        full_end = next_start - one_day
        prorated = full_end > term_end
        if prorated or (index == 0 and one_time_cost):
            amount = recurring
            if prorated:
                amount = recurring * ((term_end - period_start).days + 1) / (next_start - period_start).days
            if index == 0:
                amount += one_time_cost
            expected = round_money(amount)
        else:
            expected = full_amount
        periods.append(BillingPeriod(pk, index, period_start, term_end if prorated else full_end, expected, prorated))
        index += 1
        period_start = next_start
    return periods


def period_for(periods, day):
    """The period containing `day` (periods are consecutive and sorted), or None."""
    if not periods or day < periods[0].start or day > periods[-1].end:
        return None
    low, high = 0, len(periods) - 1
    while low < high:  # the last period starting on or before `day`
        middle = (low + high + 1) // 2
        if periods[middle].start <= day:
            low = middle
        else:
            high = middle - 1
    return periods[low]


def uuid_text(name):
    """A UUID column as text, for `values()` over many rows."""
    # UUIDs are fetched as text: psycopg2's UUID conversion costs more than the whole query on 200k rows.
    return Cast(name, output_field=TextField())


def invoice_rows(contracts, user=None, queryset=None, with_ids=False):
    """(contract key, billed_from, amount[, invoice key]) of the non-Cancelled invoices of `contracts`: one query.

    `contracts` is a Contract queryset (used as a subquery); keys are the UUIDs as text. An invoice belongs to the
    period containing its `period_start`; one without a service period is placed by its invoice date.
    """
    from nautobot_contracts.models import Invoice  # pylint: disable=import-outside-toplevel

    queryset = Invoice.objects.all() if queryset is None else queryset
    columns = ["contract_key", "billed_from", "amount"] + (["invoice_key"] if with_ids else [])
    return (
        restrict(queryset, user)
        .filter(contract_id__in=contracts.values("pk"))
        .exclude(status__name=CANCELLED_STATUS)
        .annotate(
            billed_from=Coalesce(F("period_start"), F("invoice_date")),
            contract_key=uuid_text("contract_id"),
            invoice_key=uuid_text("id"),
        )
        .order_by()
        .values_list(*columns)
    )


def assign_states(periods, as_of, grace_days):
    """Set each period's state from its invoices, the date and the grace days."""
    for period in periods:
        if not period.invoice_count:
            if period.expected == ZERO:
                period.state = STATE_OK  # nothing was due, so nothing is missing
            elif (as_of - period.start).days > grace_days:
                period.state = STATE_MISSING
            else:
                period.state = STATE_PENDING
        elif period.invoiced == period.expected:
            period.state = STATE_OK
        elif period.invoiced > period.expected:
            period.state = STATE_OVER
        else:
            period.state = STATE_UNDER


def contract_queryset(as_of, user=None, queryset=None):
    """The contracts billing is reconciled for: Active or Expired, started by `as_of`, viewable by `user`."""
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    queryset = Contract.objects.all() if queryset is None else queryset
    return restrict(queryset, user).filter(status__name__in=RECONCILED_STATUSES, start_date__lte=as_of).order_by()


def contract_rows(queryset, *extra):
    """`values()` rows of CONTRACT_VALUES (and `extra` columns) of a Contract queryset, with `pk` a UUID."""
    rows = queryset.annotate(key=uuid_text("id")).values(
        *(name for name in CONTRACT_VALUES if name != "pk"), "key", *extra
    )
    for row in rows:
        row["pk"] = uuid.UUID(row.pop("key"))
        yield row


def contract_billing(
    as_of, user=None, queryset=None, grace_days=None, invoices=None, until=None, with_invoice_ids=False
):  # pylint: disable=too-many-arguments
    """{contract pk: ContractBilling} for the reconciled contracts of `queryset` that `user` may view: two queries.

    Periods that start after `as_of` (up to `until`, when given) are generated too, with no state, for budgets.
    `invoices` is an optional Invoice queryset to count from (it is restricted to `user` as well);
    `with_invoice_ids` also lists the ids (UUIDs) of the invoices counted in each period.
    """
    grace_days = grace_days_setting() if grace_days is None else grace_days
    contracts = contract_queryset(until or as_of, user=user, queryset=queryset)
    by_key = {}
    for row in contract_rows(contracts):
        by_key[str(row["pk"])] = ContractBilling(
            row["pk"], row["currency"], schedule(row, as_of, until=until), row["name"], row["provider__name"]
        )
    if not by_key:
        return {}
    for invoice in invoice_rows(contracts, user=user, queryset=invoices, with_ids=with_invoice_ids):
        billing = by_key.get(invoice[0])
        period = period_for(billing.periods, invoice[1]) if billing is not None else None
        if period is not None and period.start <= as_of:
            period.invoiced += invoice[2]
            period.invoice_count += 1
            if with_invoice_ids:
                if period.invoice_ids is None:
                    period.invoice_ids = []
                period.invoice_ids.append(uuid.UUID(invoice[3]))
    for billing in by_key.values():
        assign_states([period for period in billing.periods if period.start <= as_of], as_of, grace_days)
    return {billing.contract_id: billing for billing in by_key.values()}


def billing_for(contract, as_of, user=None, grace_days=None):
    """The ContractBilling of one contract on `as_of` (an empty one when it is not reconciled)."""
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    figures = contract_billing(
        as_of, user=user, queryset=Contract.objects.filter(pk=contract.pk), grace_days=grace_days
    )
    return figures.get(contract.pk) or ContractBilling(contract.pk, contract.currency, [])


def invoice_periods(invoices, as_of, user=None, grace_days=None):
    """{invoice pk: BillingPeriod} for the given invoices (objects with pk and contract_id): two queries.

    An invoice outside every started period of its contract (or of a contract that is not reconciled) is absent.
    """
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    contract_ids = {invoice.contract_id for invoice in invoices}
    if not contract_ids:
        return {}
    figures = contract_billing(
        as_of,
        user=user,
        queryset=Contract.objects.filter(pk__in=contract_ids),
        grace_days=grace_days,
        with_invoice_ids=True,
    )
    return {
        invoice_id: period
        for billing in figures.values()
        for period in billing.periods
        for invoice_id in period.invoice_ids or ()
    }


def contracts_in_state_q(states, as_of, user=None, queryset=None, grace_days=None):
    """Q matching the contracts of `queryset` with at least one started period in one of `states`."""
    figures = contract_billing(as_of, user=user, queryset=queryset, grace_days=grace_days)
    wanted = set(states)
    return Q(
        pk__in=[pk for pk, billing in figures.items() if any(period.state in wanted for period in billing.periods)]
    )


def invoices_in_state_q(states, as_of, user=None, contracts=None, grace_days=None):
    """Q matching invoices counted in a started period whose state is one of `states` (ok, over, under)."""
    figures = contract_billing(as_of, user=user, queryset=contracts, grace_days=grace_days, with_invoice_ids=True)
    wanted = set(states)
    return Q(
        pk__in=[
            invoice_id
            for billing in figures.values()
            for period in billing.periods
            if period.state in wanted
            for invoice_id in period.invoice_ids or ()
        ]
    )


@dataclass
class ReconciliationSummary:
    """What the Reconcile invoices Job reports: counts and per-currency figures over many contracts."""

    as_of: datetime.date
    contracts_checked: int
    periods_checked: int
    counts: dict
    variance_to_date: dict
    problems: list


def reconcile(as_of, user=None, queryset=None, grace_days=None):
    """Reconcile the contracts of `queryset` that `user` may view on `as_of` (two queries).

    Returns a ReconciliationSummary; `problems` holds (ContractBilling, BillingPeriod) for every missing, over- or
    under-billed period, ordered by contract name and period start.
    """
    figures = contract_billing(as_of, user=user, queryset=queryset, grace_days=grace_days)
    counts = dict.fromkeys(STATES, 0)
    variance = defaultdict(lambda: ZERO)
    problems = []
    periods_checked = 0
    for billing in figures.values():
        invoiced = expected = ZERO
        for period in billing.periods:
            periods_checked += 1
            counts[period.state] += 1
            invoiced += period.invoiced  # the contract's variance_to_date, summed in this one pass over its periods
            expected += period.expected
            if period.state in PROBLEM_STATES:
                problems.append((billing, period))
        variance[billing.currency] += invoiced - expected
    problems.sort(key=lambda item: (item[0].name, str(item[0].contract_id), item[1].start))
    return ReconciliationSummary(
        as_of=as_of,
        contracts_checked=len(figures),
        periods_checked=periods_checked,
        counts=counts,
        variance_to_date=dict(sorted(variance.items())),
        problems=problems,
    )
