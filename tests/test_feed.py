"""The iCalendar feed and personal feed tokens: hashing, revocation, restriction, VALARM, stable UIDs, query count."""

import datetime
import hashlib
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar
from nautobot.apps.testing import TestCase

from nautobot_contracts.models import Contract, FeedToken
from tests import factories

D = datetime.date
AS_OF = D(2026, 3, 1)
TOKENS_URL = reverse("plugins:nautobot_contracts:feedtoken_list")


def feed_url(secret):
    return reverse("plugins:nautobot_contracts:calendar_feed", args=[secret])


def parse(response):
    """The VEVENTs of a feed response, parsed with icalendar."""
    return Calendar.from_ical(response.content).walk("VEVENT")


def by_summary(events):
    return {str(event["SUMMARY"]): event for event in events}


@mock.patch("nautobot_contracts.clock.today", return_value=AS_OF)
class FeedTest(TestCase):
    """GET /plugins/contracts/calendar/feed/<token>.ics, as the token's owner may view it at request time."""

    @classmethod
    def setUpTestData(cls):
        # Term ends 2026-06-30, notice 60 days -> deadline 2026-05-01.
        cls.alpha = factories.ContractFactory(name="Alpha", end_date=D(2026, 6, 30), notice_period_days=60)
        # Auto-renews yearly from 2026-04-30; 30 days' notice: deadlines 2026-03-31, 2027-03-31, ...
        cls.beta = factories.ContractFactory(
            name="Beta", start_date=D(2025, 5, 1), end_date=D(2026, 4, 30), auto_renew=True, notice_period_days=30
        )

    def setUp(self):
        super().setUp()
        self.token, self.secret = FeedToken.issue(self.user, "laptop")
        self.client.logout()  # a calendar client has no session: the token alone must do

    def test_feed_events_and_alarms(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        response = self.client.get(feed_url(self.secret))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/calendar; charset=utf-8")
        parsed = parse(response)
        # Window 2025-12-01 .. 2027-04-05 (90 days back, 400 ahead): Beta's 2027-04-30 term end is outside it.
        self.assertEqual(
            sorted((event["DTSTART"].dt, str(event["SUMMARY"])) for event in parsed),
            [
                (D(2026, 3, 31), "Give notice: Beta"),
                (D(2026, 4, 30), "Term ends: Beta"),
                (D(2026, 5, 1), "Give notice: Alpha"),
                (D(2026, 6, 30), "Term ends: Alpha"),
                (D(2027, 3, 31), "Give notice: Beta"),
            ],
        )
        events = by_summary(parsed)
        alpha_notice = events["Give notice: Alpha"]
        self.assertEqual(alpha_notice["DTEND"].dt, D(2026, 5, 2))
        self.assertEqual(str(alpha_notice["UID"]), f"{self.alpha.pk}-notice-2026-06-30@nautobot-contracts")
        self.assertIn(self.alpha.get_absolute_url(), str(alpha_notice["URL"]))
        alarms = alpha_notice.walk("VALARM")
        self.assertEqual(len(alarms), 1)
        self.assertEqual(alarms[0]["TRIGGER"].dt, -datetime.timedelta(days=90))  # renewal_alert_days default
        self.assertEqual(str(alarms[0]["ACTION"]), "DISPLAY")
        self.assertEqual(events["Term ends: Alpha"].walk("VALARM"), [])

    @override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"renewal_alert_days": 21}})
    def test_alarm_follows_the_setting(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        events = by_summary(parse(self.client.get(feed_url(self.secret))))
        self.assertEqual(events["Give notice: Beta"].walk("VALARM")[0]["TRIGGER"].dt, -datetime.timedelta(days=21))

    def test_uids_are_stable_across_requests_and_edits(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        first = {str(event["UID"]) for event in parse(self.client.get(feed_url(self.secret)))}
        second = {str(event["UID"]) for event in parse(self.client.get(feed_url(self.secret)))}
        self.assertEqual(first, second)
        self.assertEqual(len(first), 5)  # one UID per contract, kind and term: no two events share one
        self.alpha.name = "Alpha renamed"
        self.alpha.validated_save()
        events = parse(self.client.get(feed_url(self.secret)))
        self.assertEqual({str(event["UID"]) for event in events}, first)
        renamed = by_summary(events)["Give notice: Alpha renamed"]
        # DTSTAMP is the contract's last change, so clients know to refresh the event they hold under that UID.
        self.alpha.refresh_from_db()
        self.assertEqual(renamed["DTSTAMP"].dt, self.alpha.last_updated.replace(microsecond=0))
        self.assertEqual(
            by_summary(events)["Term ends: Beta"]["DTSTAMP"].dt, self.beta.last_updated.replace(microsecond=0)
        )

    def test_restricted_to_what_the_owner_may_view_now(self, _today):
        self.add_permissions("nautobot_contracts.view_contract", constraints={"name": "Alpha"})
        summaries = set(by_summary(parse(self.client.get(feed_url(self.secret)))))
        self.assertEqual(summaries, {"Give notice: Alpha", "Term ends: Alpha"})
        # The permission goes away: the same URL shows nothing on the next fetch.
        self.remove_permissions("nautobot_contracts.view_contract", constraints={"name": "Alpha"})
        self.assertEqual(parse(self.client.get(feed_url(self.secret))), [])

    def test_another_users_token_shows_that_users_view(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        other = get_user_model().objects.create_user(username="other-feed-user")
        factories.grant(other, Contract, constraints={"name": "Beta"})
        _, other_secret = FeedToken.issue(other, "phone")
        summaries = {summary.split(": ")[1] for summary in by_summary(parse(self.client.get(feed_url(other_secret))))}
        self.assertEqual(summaries, {"Beta"})

    def test_unknown_revoked_and_inactive_tokens_are_404(self, _today):
        self.add_permissions("nautobot_contracts.view_contract")
        self.assertEqual(self.client.get(feed_url("not-a-token")).status_code, 404)
        self.assertEqual(self.client.get(f"/plugins/contracts/calendar/feed/{'a' * 129}.ics").status_code, 404)
        # The stored hash itself is not a credential.
        self.assertEqual(self.client.get(feed_url(self.token.key_hash)).status_code, 404)
        self.user.is_active = False
        self.user.save()
        self.assertEqual(self.client.get(feed_url(self.secret)).status_code, 404)
        self.user.is_active = True
        self.user.save()
        self.assertEqual(self.client.get(feed_url(self.secret)).status_code, 200)
        self.client.force_login(self.user)
        self.client.post(reverse("plugins:nautobot_contracts:feedtoken_revoke", kwargs={"pk": self.token.pk}))
        self.client.logout()
        self.assertEqual(self.client.get(feed_url(self.secret)).status_code, 404)

    def test_last_used_is_recorded(self, _today):
        self.assertIsNone(self.token.last_used)
        self.client.get(feed_url(self.secret))
        self.token.refresh_from_db()
        self.assertIsNotNone(self.token.last_used)

    def test_query_count_does_not_grow(self, _today):
        self.add_permissions("nautobot_contracts.view_contract", constraints={"provider__name__isnull": False})
        self.client.get(feed_url(self.secret))
        with CaptureQueriesContext(connection) as before:
            small = parse(self.client.get(feed_url(self.secret)))
        for index in range(20):
            factories.ContractFactory(name=f"Bulk {index:02d}", end_date=D(2026, 9, 30), auto_renew=index % 2 == 0)
        with CaptureQueriesContext(connection) as after:
            large = parse(self.client.get(feed_url(self.secret)))
        # Each: notice and end on 2026-09-30 (no notice period); a renewing one's next term ends after 2027-04-05.
        self.assertEqual(len(large), len(small) + 20 * 2)
        self.assertEqual(len(after), len(before))
        self.assertLessEqual(len(after), 6)


class FeedTokenPagesTest(TestCase):
    """Create, list and revoke: a user sees and revokes only their own tokens; the secret is shown once."""

    def test_create_shows_the_secret_once_and_stores_its_hash(self):
        response = self.client.post(TOKENS_URL, {"name": "Outlook"})
        self.assertEqual(response.status_code, 200)
        token = FeedToken.objects.get(user=self.user)
        self.assertEqual(token.name, "Outlook")
        secret = response.context["created"]["feed_url"].rsplit("/", 1)[1].removesuffix(".ics")
        self.assertGreaterEqual(len(secret), 43)  # token_urlsafe(32)
        self.assertEqual(token.key_hash, hashlib.sha256(secret.encode()).hexdigest())
        self.assertIn(secret, response.content.decode())
        stored = [str(value) for value in FeedToken.objects.values_list("name", "key_hash").get()]
        self.assertNotIn(secret, stored)
        listing = self.client.get(TOKENS_URL).content.decode()
        self.assertIn("Outlook", listing)
        self.assertNotIn(secret, listing)

    def test_bad_name_is_a_400_and_creates_nothing(self):
        for name in ("", "   ", "x" * 101):
            with self.subTest(name=name):
                self.assertEqual(self.client.post(TOKENS_URL, {"name": name}).status_code, 400)
        self.assertFalse(FeedToken.objects.exists())

    def test_lists_and_revokes_only_own_tokens(self):
        other = get_user_model().objects.create_user(username="someone-else")
        theirs, _ = FeedToken.issue(other, "their token")
        mine, _ = FeedToken.issue(self.user, "my token")
        listing = self.client.get(TOKENS_URL).content.decode()
        self.assertIn("my token", listing)
        self.assertNotIn("their token", listing)
        revoke = "plugins:nautobot_contracts:feedtoken_revoke"
        self.assertEqual(self.client.post(reverse(revoke, kwargs={"pk": theirs.pk})).status_code, 404)
        self.assertTrue(FeedToken.objects.filter(pk=theirs.pk).exists())
        self.assertEqual(self.client.get(reverse(revoke, kwargs={"pk": mine.pk})).status_code, 405)  # POST only
        response = self.client.post(reverse(revoke, kwargs={"pk": mine.pk}))
        self.assertRedirects(response, TOKENS_URL)
        self.assertFalse(FeedToken.objects.filter(pk=mine.pk).exists())

    def test_login_required(self):
        self.client.logout()
        self.assertEqual(self.client.get(TOKENS_URL).status_code, 302)
        self.assertEqual(self.client.post(TOKENS_URL, {"name": "x"}).status_code, 302)
        self.assertFalse(FeedToken.objects.exists())
