"""The renewal calendar: services.calendar.calendar_events (hand-worked terms) and the month view."""

import datetime
from unittest import mock

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import TestCase

from nautobot_contracts.models import Contract
from nautobot_contracts.services import calendar
from nautobot_contracts.views_calendar import parse_month
from tests import factories

D = datetime.date
AS_OF = D(2026, 3, 1)
URL = reverse("plugins:nautobot_contracts:calendar")


def make_contract(status="Active", **kwargs):
    """A saved contract; `status` by name."""
    return factories.ContractFactory(status=factories.status_for(Contract, status), **kwargs)


def summary(events):
    """(date, title, tier) of each event, in the service's order."""
    return [(event.date, event.title, event.tier) for event in events]


class CalendarEventsTest(TestCase):
    """Each term's notice deadline and end inside the range, for Active contracts only."""

    @classmethod
    def setUpTestData(cls):
        cls.alpha = make_contract(
            name="Alpha", start_date=D(2025, 7, 1), end_date=D(2026, 6, 30), notice_period_days=60
        )
        # Auto-renews every 3 months from 2025-12-31: terms end 2026-03-31, 06-30, 09-30, 12-31; 30 days' notice.
        cls.beta = make_contract(
            name="Beta",
            start_date=D(2025, 1, 1),
            end_date=D(2025, 12, 31),
            auto_renew=True,
            renewal_term_months=3,
            notice_period_days=30,
        )
        # Deadline 2026-10-31 - 90 days = 2026-08-02 inside the range, term end after it.
        cls.gamma = make_contract(name="Gamma", end_date=D(2026, 10, 31), notice_period_days=90)
        make_contract(name="Pending", status="Pending", end_date=D(2026, 4, 30))
        make_contract(name="Cancelled", status="Cancelled", end_date=D(2026, 4, 30))
        make_contract(name="Lapsed", start_date=D(2025, 1, 1), end_date=D(2026, 1, 31))

    def test_terms_in_range(self):
        events = calendar.calendar_events(D(2026, 3, 1), D(2026, 9, 30), as_of=AS_OF)
        self.assertEqual(
            summary(events),
            [
                # Beta's current term (ends 03-31, notice by 03-01): 0 days left, auto-renewing -> urgent.
                (D(2026, 3, 1), "Give notice: Beta", "urgent"),
                (D(2026, 3, 31), "Term ends: Beta", "urgent"),
                # Alpha: 2026-06-30 - 60 days; 61 days away on 03-01 -> upcoming (within the 90-day window).
                (D(2026, 5, 1), "Give notice: Alpha", "upcoming"),
                # Beta's next term: not the current one on as_of, so no tier.
                (D(2026, 5, 31), "Give notice: Beta", "none"),
                (D(2026, 6, 30), "Term ends: Alpha", "upcoming"),
                (D(2026, 6, 30), "Term ends: Beta", "none"),
                # Gamma: notice deadline 154 days away -> outside the window, no tier; its term end is after the range.
                (D(2026, 8, 2), "Give notice: Gamma", "none"),
                (D(2026, 8, 31), "Give notice: Beta", "none"),
                (D(2026, 9, 30), "Term ends: Beta", "none"),
            ],
        )
        beta_terms = {event.term_end for event in events if event.contract == self.beta}
        self.assertEqual(beta_terms, {D(2026, 3, 31), D(2026, 6, 30), D(2026, 9, 30)})

    def test_deadline_before_range_is_left_out(self):
        # May: Alpha's deadline (05-01) and Beta's second one (05-31); nothing else falls in May.
        events = calendar.calendar_events(D(2026, 5, 2), D(2026, 5, 31), as_of=AS_OF)
        self.assertEqual(summary(events), [(D(2026, 5, 31), "Give notice: Beta", "none")])

    def test_month_end_terms_do_not_drift(self):
        # Monthly from 2026-01-31: Feb 28, Mar 31, Apr 30 (always stepped from the original end, never Mar 28).
        monthly = make_contract(
            name="Monthly", start_date=D(2025, 1, 31), end_date=D(2026, 1, 31), auto_renew=True, renewal_term_months=1
        )
        events = calendar.calendar_events(
            D(2026, 2, 1), D(2026, 4, 30), as_of=AS_OF, queryset=Contract.objects.filter(pk=monthly.pk)
        )
        term_ends = [event.date for event in events if event.kind == calendar.KIND_TERM_END]
        self.assertEqual(term_ends, [D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)])
        # No notice period: the deadline is the term end itself.
        notices = [event.date for event in events if event.kind == calendar.KIND_NOTICE]
        self.assertEqual(notices, term_ends)

    def test_uid_is_contract_kind_and_term_end(self):
        event = calendar.calendar_events(D(2026, 5, 1), D(2026, 5, 1), as_of=AS_OF)[0]
        self.assertEqual(event.uid, f"{self.alpha.pk}-notice-2026-06-30@nautobot-contracts")

    def test_restricted_to_the_user(self):
        factories.grant(self.user, Contract, constraints={"name": "Alpha"})
        user = type(self.user).objects.get(pk=self.user.pk)
        events = calendar.calendar_events(D(2026, 3, 1), D(2026, 9, 30), as_of=AS_OF, user=user)
        self.assertEqual({event.contract.name for event in events}, {"Alpha"})
        self.assertEqual(len(events), 2)

    def test_user_without_permission_sees_nothing(self):
        self.assertEqual(calendar.calendar_events(D(2026, 3, 1), D(2026, 9, 30), as_of=AS_OF, user=self.user), [])

    def test_bad_ranges_are_refused(self):
        with self.assertRaises(ValueError):
            calendar.calendar_events(D(2026, 3, 2), D(2026, 3, 1), as_of=AS_OF)
        with self.assertRaises(ValueError):
            calendar.calendar_events(D(2026, 1, 1), D(2030, 1, 1), as_of=AS_OF)

    def test_one_query_whatever_the_number_of_contracts(self):
        with self.assertNumQueries(1):
            small = calendar.calendar_events(D(2026, 3, 1), D(2026, 9, 30), as_of=AS_OF)
        for index in range(20):
            make_contract(
                name=f"Bulk {index:02d}", end_date=D(2026, 7, 31), notice_period_days=30, auto_renew=index % 2 == 0
            )
        with self.assertNumQueries(1):
            large = calendar.calendar_events(D(2026, 3, 1), D(2026, 9, 30), as_of=AS_OF)
        self.assertEqual(len(large), len(small) + 20 * 2)


@mock.patch("nautobot_contracts.clock.today", return_value=AS_OF)
class RenewalCalendarViewTest(TestCase):
    """/plugins/contracts/calendar/?month=YYYY-MM: the grid, links, tiers, restriction, 400 on bad input."""

    @classmethod
    def setUpTestData(cls):
        cls.beta = make_contract(
            name="Beta",
            start_date=D(2025, 1, 1),
            end_date=D(2025, 12, 31),
            auto_renew=True,
            renewal_term_months=3,
            notice_period_days=30,
        )
        cls.secret = make_contract(name="Secret", end_date=D(2026, 3, 20))

    def test_month_grid(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        response = self.client.get(URL, {"month": "2026-03"})
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assertIn("Renewal calendar: March 2026", content)
        self.assertIn('href="?month=2026-02"', content)
        self.assertIn('href="?month=2026-04"', content)
        self.assertIn(f'href="{self.beta.get_absolute_url()}"', content)
        self.assertEqual(content.count('data-tier="urgent" data-kind="notice"'), 1)
        self.assertEqual(content.count('data-tier="urgent" data-kind="term_end"'), 1)
        self.assertIn("Term ends: Secret", content)
        # Beta's notice (03-01) and end (03-31); Secret has no notice period, so its deadline is its end (03-20).
        self.assertIn("4 events this month", content)
        self.assertEqual(content.count('data-tier="soon"'), 2)  # Secret: 19 days to its deadline
        self.assertIn('nc-today" data-date="2026-03-01"', content)

    def test_default_month_is_today(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        content = self.client.get(URL).content.decode()
        self.assertIn("Renewal calendar: March 2026", content)

    def test_restricted_to_the_viewer(self, _today):
        self.add_permissions("nautobot_contracts.view_contract", constraints={"name": "Beta"})
        content = self.client.get(URL, {"month": "2026-03"}).content.decode()
        self.assertIn("Give notice: Beta", content)
        self.assertNotIn("Secret", content)

    def test_bad_month_is_a_400(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        for value in ("2026-13", "2026-3", "March", "0999-01", "2026-00", "2026-03-01"):
            with self.subTest(value=value):
                self.assertEqual(self.client.get(URL, {"month": value}).status_code, 400)

    def test_menu_items(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        content = self.client.get(reverse("home")).content.decode()  # the navigation menu, on a page of its own
        self.assertIn(f'href="{URL}"', content)
        self.assertIn(f'href="{reverse("plugins:nautobot_contracts:feedtoken_list")}"', content)

    def test_login_required(self, _today):
        self.client.logout()
        response = self.client.get(URL)
        self.assertEqual(response.status_code, 302)
        self.assertIn("/login/", response.url)

    def test_query_count_does_not_grow(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        self.client.get(URL, {"month": "2026-03"})
        with CaptureQueriesContext(connection) as before:
            self.client.get(URL, {"month": "2026-03"})
        for index in range(15):
            make_contract(name=f"Bulk {index:02d}", end_date=D(2026, 3, 10 + index), provider=self.beta.provider)
        with CaptureQueriesContext(connection) as after:
            content = self.client.get(URL, {"month": "2026-03"}).content.decode()
        self.assertIn("Term ends: Bulk 14", content)
        self.assertEqual(len(after), len(before))


class AddMonthsTest(TestCase):
    def test_same_as_relativedelta(self):
        # Month ends, leap days and year boundaries, forward far enough for a long renewal history.
        for start in (D(2024, 1, 31), D(2024, 2, 29), D(2025, 3, 30), D(2025, 12, 31), D(2026, 6, 15)):
            for months in range(0, 61):
                with self.subTest(start=start, months=months):
                    self.assertEqual(calendar.add_months(start, months), start + relativedelta(months=months))

    def test_examples(self):
        self.assertEqual(calendar.add_months(D(2026, 1, 31), 1), D(2026, 2, 28))
        self.assertEqual(calendar.add_months(D(2024, 2, 29), 12), D(2025, 2, 28))
        self.assertEqual(calendar.add_months(D(2025, 11, 30), 3), D(2026, 2, 28))


class ParseMonthTest(TestCase):
    def test_parse(self):
        self.assertEqual(parse_month("2026-02", AS_OF), D(2026, 2, 1))
        self.assertEqual(parse_month("", AS_OF), D(2026, 3, 1))
        with self.assertRaises(ValueError):
            parse_month("2026-2", AS_OF)
