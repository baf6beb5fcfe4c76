"""The renewal calendar: notice deadlines and term ends of Active contracts that fall in a date range.

One query whatever the number of contracts: the first term end on or after the range start and its notice deadline
come from the SQL twins in `services.terms`, the database keeps only contracts with a deadline before the range
end, and an auto-renewing contract's later terms inside the range are rolled forward in Python from its end date
(the same month arithmetic as `terms.current_term_end`).
"""

import calendar
from dataclasses import dataclass
import datetime

from nautobot_contracts import clock
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.terms import (
    ACTIVE_STATUS,
    current_term_end_expression,
    notice_deadline_expression,
    renewal_term_months,
    term_figures,
)

KIND_NOTICE = "notice"
KIND_TERM_END = "term_end"
KIND_TITLES = {KIND_NOTICE: "Give notice", KIND_TERM_END: "Term ends"}
TIER_NONE = "none"  # no renewal tier on the day asked (a later term, a past one, or not yet in the window)
EVENT_FIELDS = (
    "id", "name", "start_date", "end_date", "auto_renew", "notice_period_days", "renewal_term_months",
    "last_updated", "status__name", "provider__name",
)  # fmt: skip
MAX_RANGE_DAYS = 3 * 366  # the feed and the month view ask for far less; this bounds the terms rolled per contract


@dataclass(frozen=True)
class CalendarEvent:
    """One notice deadline or term end of one contract's term."""

    contract: object
    kind: str  # KIND_NOTICE or KIND_TERM_END
    date: datetime.date
    term_end: datetime.date  # the end of the term this event belongs to
    notice_deadline: datetime.date
    tier: str  # the contract's renewal tier on `as_of` for its current term, else TIER_NONE

    @property
    def title(self):
        """The event title, e.g. "Give notice: <contract>" or "Term ends: <contract>"."""
        return f"{KIND_TITLES[self.kind]}: {self.contract.name}"

    @property
    def uid(self):
        """Stable across requests and edits: contract pk, kind and term end (never the name or the date shown)."""
        return event_uid(self.contract.pk, self.kind, self.term_end)


def event_uid(contract_pk, kind, term_end):
    """The iCalendar UID of one event (see CalendarEvent.uid)."""
    return f"{contract_pk}-{kind}-{term_end.isoformat()}@nautobot-contracts"


def add_months(day, months):
    """`day` + `months` calendar months, clamped to the end of a shorter month, exactly as dateutil's relativedelta.

    relativedelta is what `terms.current_term_end` uses; this is the same arithmetic without building a relativedelta
    per term (a monthly contract has dozens of terms in the feed's window). tests/test_calendar.py compares the two.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _term_ends(contract, first_end, last_deadline_day):
    """Term ends from `first_end` on whose notice deadline is not after `last_deadline_day`.

    A contract that does not auto-renew has one term; an auto-renewing one steps from its original end date by whole
    renewal terms, so month-end clamping never drifts (Jan 31 + 1 month = Feb 28, + 2 months = Mar 31).
    """
    notice = datetime.timedelta(days=contract.notice_period_days or 0)
    if not contract.auto_renew:
        return [first_end] if first_end - notice <= last_deadline_day else []
    term = renewal_term_months(contract)
    end = contract.end_date
    terms = ((first_end.year - end.year) * 12 + first_end.month - end.month) // term
    result = []
    term_end = add_months(end, terms * term)
    while term_end - notice <= last_deadline_day:
        if term_end >= first_end:
            result.append(term_end)
        terms += 1
        term_end = add_months(end, terms * term)
    return result


def calendar_events(start, end, as_of=None, user=None, queryset=None):
    """Notice deadlines and term ends in [start, end] of the Active contracts `user` may view, by date then name.

    Each term of a contract gives a "notice" event on its notice deadline and a "term_end" event on its end, each
    only when it lies in the range; `tier` is the contract's renewal tier on `as_of` (default today) for the term
    that is current then. One query (plus the permission lookup when a user is given).
    """
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    if end < start:
        raise ValueError("The range ends before it starts.")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValueError(f"The range is longer than {MAX_RANGE_DAYS} days.")
    as_of = clock.today() if as_of is None else as_of
    queryset = Contract.objects.all() if queryset is None else queryset
    # Every term end that matters is on or after `start` (a deadline is never after its term end), so the first one
    # is `current_term_end` on `start`; its deadline is the earliest of all, and it must not be after `end`.
    contracts = (
        restrict(queryset, user)
        .filter(status__name=ACTIVE_STATUS)
        .annotate(first_end=current_term_end_expression(start), first_deadline=notice_deadline_expression(start))
        .filter(first_end__gte=start, first_deadline__lte=end)
        .select_related("provider", "status")
        # Only what the rules, the titles, links and feed stamps read: 20k contracts load in a fraction of the time.
        .only(*EVENT_FIELDS)
        .order_by()
    )
    events = []
    for contract in contracts:
        figures = term_figures(contract, as_of)
        notice = datetime.timedelta(days=contract.notice_period_days or 0)
        for term_end in _term_ends(contract, contract.first_end, end):
            tier = figures.tier if figures.tier and term_end == figures.current_term_end else TIER_NONE
            deadline = term_end - notice
            for kind, day in ((KIND_NOTICE, deadline), (KIND_TERM_END, term_end)):
                if start <= day <= end:
                    events.append(CalendarEvent(contract, kind, day, term_end, deadline, tier))
    events.sort(key=lambda event: (event.date, event.kind != KIND_NOTICE, event.contract.name, event.contract.pk))
    return events
