"""Contract terms: monthly cost, active-on-date, current term end, notice deadline, renewal tier.

Each rule (docs/user/app-overview.md, the rules) is written once in Python for one loaded contract and once as a
database expression for querysets; tests/test_services_renewals.py and tests/test_services_terms.py check that the
twins agree over grids of dates.
"""

import datetime
from decimal import Decimal
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.db.models import (
    Case,
    CharField,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, NullIf
from django.db.models.lookups import GreaterThanOrEqual, LessThan, LessThanOrEqual

from nautobot_contracts.app_settings import default_renewal_term_months, renewal_thresholds
from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.services.access import restrict

ACTIVE_STATUS = "Active"
ZERO = Decimal("0")

TIER_MISSED = "missed"
TIER_URGENT = "urgent"
TIER_SOON = "soon"
TIER_UPCOMING = "upcoming"
TIERS = (TIER_MISSED, TIER_URGENT, TIER_SOON, TIER_UPCOMING)


def billing_months(billing_period):
    """Months one bill covers, or None for a one-time contract."""
    return BillingPeriodChoices.MONTHS.get(billing_period)


def monthly_cost(contract):
    """recurring_cost / months in the billing period, unrounded; 0 for a one-time contract."""
    months = billing_months(contract.billing_period)
    if not months:
        return ZERO
    return Decimal(contract.recurring_cost) / months


def monthly_cost_expression(prefix=""):
    """The same rule as `monthly_cost`, as a database expression for annotate()/aggregate()."""
    output = DecimalField(max_digits=30, decimal_places=10)
    whens = [
        When(
            **{f"{prefix}billing_period": period},
            then=ExpressionWrapper(F(f"{prefix}recurring_cost") / Value(Decimal(months)), output_field=output),
        )
        for period, months in BillingPeriodChoices.MONTHS.items()
        if months
    ]
    return Case(*whens, default=Value(ZERO), output_field=output)


def active_on_q(as_of, prefix=""):
    """Q for contracts active on `as_of`: status Active, started, and not ended unless it auto-renews."""
    return Q(**{f"{prefix}status__name": ACTIVE_STATUS, f"{prefix}start_date__lte": as_of}) & (
        Q(**{f"{prefix}end_date__gte": as_of}) | Q(**{f"{prefix}auto_renew": True})
    )


def is_active_on(contract, as_of):
    """The Python form of `active_on_q` for one loaded contract (status must be loaded)."""
    if contract.status is None or contract.status.name != ACTIVE_STATUS or contract.start_date > as_of:
        return False
    return contract.end_date >= as_of or contract.auto_renew


def active_contracts(as_of, user=None, queryset=None):
    """Contracts active on `as_of`, restricted to what `user` may view."""
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    queryset = Contract.objects.all() if queryset is None else queryset
    return restrict(queryset, user).filter(active_on_q(as_of))


def renewal_term_months(contract):
    """The contract's renewal term, falling back to the app's default."""
    return contract.renewal_term_months or default_renewal_term_months()


def current_term_end(contract, as_of):
    """end_date, rolled forward by whole renewal terms while it lies before `as_of` and the contract auto-renews."""
    end = contract.end_date
    if not contract.auto_renew or end >= as_of:
        return end
    term = renewal_term_months(contract)
    months_behind = (as_of.year - end.year) * 12 + (as_of.month - end.month)
    terms = max(1, months_behind // term)
    # Always step from the original end date so month-end clamping (Jan 31 -> Feb 28) never drifts.
    rolled = end + relativedelta(months=terms * term)
    while rolled < as_of:
        terms += 1
        rolled = end + relativedelta(months=terms * term)
    return rolled


def notice_deadline(contract, as_of):
    """Current term end minus the notice period (the term end itself when there is no notice period)."""
    return current_term_end(contract, as_of) - datetime.timedelta(days=contract.notice_period_days or 0)


class TermFigures(NamedTuple):
    """What every surface shows about one contract's term on a date."""

    active: bool
    current_term_end: datetime.date
    notice_deadline: datetime.date | None
    days_to_deadline: int | None
    tier: str | None


def term_figures(contract, as_of):
    """Term end, notice deadline, days left and renewal tier of one contract on `as_of` (status must be loaded).

    Renewal figures exist only for a contract in force: for any other (pending, cancelled, expired, lapsed) the term
    end is its end date, never rolled forward, and there is no deadline and no tier.
    """
    if not is_active_on(contract, as_of):
        return TermFigures(False, contract.end_date, None, None, None)
    deadline = notice_deadline(contract, as_of)
    return TermFigures(
        True, current_term_end(contract, as_of), deadline, (deadline - as_of).days, renewal_tier(contract, as_of)
    )


def renewal_tier(contract, as_of, urgent_days=None, soon_days=None, window_days=None):
    """Rank an active contract by days to its notice deadline: missed, urgent, soon, upcoming, or None.

    Thresholds: the arguments, else the app's settings (`app_settings.renewal_thresholds`).
    """
    window_days, urgent_days, soon_days = renewal_thresholds(window_days, urgent_days, soon_days)
    term_end = current_term_end(contract, as_of)
    days_left = (notice_deadline(contract, as_of) - as_of).days
    if days_left < 0:
        return TIER_MISSED if term_end >= as_of else None
    if days_left <= (2 * urgent_days if contract.auto_renew else urgent_days):
        return TIER_URGENT
    if days_left <= soon_days:
        return TIER_SOON
    if days_left <= window_days:
        return TIER_UPCOMING
    return None


# The same term rules as database expressions, so reports can filter and aggregate on them in one query.
# tests/test_services_renewals.py checks them against the Python functions above over a grid of dates.


class _DateArithmetic(Func):
    """A date and a whole number combined by `sql` ({date}, {number}): PostgreSQL date arithmetic."""

    arity = 2
    output_field = DateField()
    sql = ""

    def as_sql(self, compiler, connection, **extra_context):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        number_sql, number_params = compiler.compile(self.source_expressions[1])
        return self.sql.format(date=date_sql, number=number_sql), (*date_params, *number_params)


class _AddMonths(_DateArithmetic):
    """`date + n months`, clamped to the last day of a shorter month (PostgreSQL does as relativedelta does)."""

    sql = "CAST(({date} + make_interval(months => CAST({number} AS integer))) AS date)"


class _SubtractDays(_DateArithmetic):
    """`date - n days` (PostgreSQL date minus integer is a date)."""

    sql = "({date} - CAST({number} AS integer))"


def renewal_term_months_expression(prefix=""):
    """The same rule as `renewal_term_months`, as a database expression."""
    return Coalesce(
        NullIf(F(f"{prefix}renewal_term_months"), Value(0)),
        Value(default_renewal_term_months()),
        output_field=IntegerField(),
    )


def current_term_end_expression(as_of, prefix=""):
    """The same rule as `current_term_end`, as a database expression.

    With m whole calendar months from the end date's month to `as_of`'s and a term of t months, the rolled end is
    end + (m // t) terms when that is not before `as_of`, else end + (m // t + 1) terms (always past `as_of`'s month).
    """
    end = F(f"{prefix}end_date")
    term = renewal_term_months_expression(prefix)
    end_month_index = Cast(ExtractYear(end), IntegerField()) * Value(12) + Cast(ExtractMonth(end), IntegerField())
    months_behind = Value(as_of.year * 12 + as_of.month) - end_month_index
    whole_terms = ExpressionWrapper(months_behind / term, output_field=IntegerField())  # integer division
    rolled = _AddMonths(end, whole_terms * term)
    return Case(
        When(Q(**{f"{prefix}auto_renew": False}) | Q(**{f"{prefix}end_date__gte": as_of}), then=end),
        When(GreaterThanOrEqual(rolled, Value(as_of)), then=rolled),
        default=_AddMonths(end, (whole_terms + Value(1)) * term),
        output_field=DateField(),
    )


def notice_deadline_expression(as_of, prefix=""):
    """The same rule as `notice_deadline`, as a database expression."""
    notice = Coalesce(F(f"{prefix}notice_period_days"), Value(0), output_field=IntegerField())
    return _SubtractDays(current_term_end_expression(as_of, prefix), notice)


def renewal_tier_expression(as_of, prefix="", urgent_days=None, soon_days=None, window_days=None):
    """The same rule as `renewal_tier`, as a database expression (a tier name, or NULL)."""
    window_days, urgent_days, soon_days = renewal_thresholds(window_days, urgent_days, soon_days)
    term_end = current_term_end_expression(as_of, prefix)
    deadline = notice_deadline_expression(as_of, prefix)

    def within(days):
        return Value(as_of + datetime.timedelta(days=days))

    # "days left <= n" is written "deadline <= as_of + n days": date comparisons, no integer of days needed.
    urgent_limit = Case(
        When(**{f"{prefix}auto_renew": True}, then=within(2 * urgent_days)),
        default=within(urgent_days),
        output_field=DateField(),
    )
    return Case(
        When(LessThan(deadline, Value(as_of)) & GreaterThanOrEqual(term_end, Value(as_of)), then=Value(TIER_MISSED)),
        When(LessThan(deadline, Value(as_of)), then=Value(None)),
        When(LessThanOrEqual(deadline, urgent_limit), then=Value(TIER_URGENT)),
        When(LessThanOrEqual(deadline, within(soon_days)), then=Value(TIER_SOON)),
        When(LessThanOrEqual(deadline, within(window_days)), then=Value(TIER_UPCOMING)),
        default=Value(None),
        output_field=CharField(),
    )


def term_figures_expressions(as_of, prefix=""):
    """`term_figures`' current term end and renewal tier, as database expressions for annotate()/filter().

    {"current_term_end": ..., "renewal_tier": ...}: for a contract not in force on `as_of` the term end is its end
    date (never rolled forward) and the tier is NULL, as `term_figures` (and the REST API's fields) say.
    """
    in_force = active_on_q(as_of, prefix)
    return {
        "current_term_end": Case(
            When(in_force, then=current_term_end_expression(as_of, prefix)),
            default=F(f"{prefix}end_date"),
            output_field=DateField(),
        ),
        "renewal_tier": Case(
            When(in_force, then=renewal_tier_expression(as_of, prefix)),
            default=Value(None),
            output_field=CharField(),
        ),
    }
