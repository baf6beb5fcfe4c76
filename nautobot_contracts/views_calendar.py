"""The renewal calendar: the month view, the personal iCalendar feed and the pages that manage feed tokens.

Every figure comes from `services.calendar.calendar_events`, restricted to the viewer (the month view) or to the
token's owner at request time (the feed).
"""

import calendar as stdlib_calendar
import datetime

from django import forms
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from icalendar import Alarm, Calendar, Event, vDatetime, vDuration, vUri
from nautobot.apps.views import GenericView

from nautobot_contracts import clock
from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.models import FeedToken
from nautobot_contracts.services.calendar import KIND_NOTICE, TIER_NONE, calendar_events
from nautobot_contracts.services.terms import TIERS

# The feed spans a quarter back (clients keep recent events instead of dropping them at once) and 13 months ahead (next
# year's term ends and their deadlines); a monthly auto-renewing contract gives about 32 events in that window.
FEED_PAST_DAYS = 90
FEED_FUTURE_DAYS = 400
# Tier colours (Bootstrap 5 contextual classes), shared by the grid and its legend.
TIER_CLASSES = {"missed": "danger", "urgent": "warning", "soon": "info", "upcoming": "primary", TIER_NONE: "secondary"}
MONTH_MIN, MONTH_MAX = datetime.date(1900, 1, 1), datetime.date(2999, 12, 1)


def parse_month(value, today):
    """The first day of the month named "YYYY-MM" (today's month when empty); ValueError when malformed."""
    if not value:
        return today.replace(day=1)
    year, sep, month = value.partition("-")
    if not sep or len(year) != 4 or len(month) != 2 or not (year.isdigit() and month.isdigit()):
        raise ValueError("month must look like YYYY-MM")
    first = datetime.date(int(year), int(month), 1)
    if not MONTH_MIN <= first <= MONTH_MAX:
        raise ValueError("month must lie between 1900-01 and 2999-12")
    return first


def _shift_month(first, months):
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


class RenewalCalendarView(GenericView):
    """A month grid (Monday first) of notice deadlines and term ends, with previous/next month links."""

    template_name = "nautobot_contracts/renewal_calendar.html"

    def get(self, request):
        """Render the month of ?month=YYYY-MM (default: this month); a malformed month answers 400."""
        today = clock.today()
        try:
            first = parse_month(request.GET.get("month", "").strip(), today)
        except ValueError as error:
            return HttpResponseBadRequest(f"Invalid month: {error}.", content_type="text/plain")
        weeks = stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        events = calendar_events(weeks[0][0], weeks[-1][-1], as_of=today, user=request.user)
        by_day = {}
        for event in events:
            by_day.setdefault(event.date, []).append(event)
        grid = [
            [
                {
                    "date": day,
                    "in_month": day.month == first.month,
                    "today": day == today,
                    "events": [(event, TIER_CLASSES[event.tier]) for event in by_day.get(day, ())],
                }
                for day in week
            ]
            for week in weeks
        ]
        previous_month, next_month = _shift_month(first, -1), _shift_month(first, 1)
        context = {
            "title": f"Renewal calendar: {first:%B %Y}",
            "month": first,
            "grid": grid,
            "weekdays": [stdlib_calendar.day_abbr[index] for index in range(7)],
            "previous_month": f"{previous_month:%Y-%m}" if previous_month >= MONTH_MIN else None,
            "next_month": f"{next_month:%Y-%m}" if next_month <= MONTH_MAX else None,
            "this_month": f"{today:%Y-%m}",
            "legend": [(tier, TIER_CLASSES[tier]) for tier in (*TIERS, TIER_NONE)],
            "event_count": sum(1 for event in events if event.date.month == first.month),
        }
        return render(request, self.template_name, context)


def build_feed(events, request, alert_days):
    """The iCalendar document (bytes) of `events`: all-day events, with a VALARM `alert_days` before each deadline.

    icalendar encodes each property on `add()`; the values shared by a contract's events (its URL and stamp) and the
    alarm's trigger are encoded once and reused, and the contract URL is reversed once for the whole feed.
    """
    feed = Calendar()
    feed.add("prodid", "-//nautobot-contracts//Renewal calendar//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", "Contract renewals")
    fallback_stamp = timezone.now()
    placeholder = "00000000-0000-0000-0000-000000000000"
    url_pattern = request.build_absolute_uri(reverse("plugins:nautobot_contracts:contract", kwargs={"pk": placeholder}))
    trigger = vDuration(-datetime.timedelta(days=alert_days))
    shared = {}  # contract pk -> (URL, DTSTAMP) properties
    for item in events:
        contract = item.contract
        if contract.pk not in shared:
            # An edit of the contract moves DTSTAMP, so clients refresh the events they hold under the same UIDs.
            shared[contract.pk] = (
                vUri(url_pattern.replace(placeholder, str(contract.pk))),
                vDatetime(contract.last_updated or fallback_stamp),
            )
        url, stamp = shared[contract.pk]
        event = Event()
        event.add("uid", item.uid)
        event["DTSTAMP"] = stamp
        event.add("summary", item.title)
        event.add("dtstart", item.date)
        event.add("dtend", item.date + datetime.timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        event["URL"] = url
        event.add("categories", [item.tier])
        event.add(
            "description",
            f"Provider: {contract.provider.name}\nTerm ends: {item.term_end.isoformat()}\n"
            f"Notice deadline: {item.notice_deadline.isoformat()}\nRenewal tier: {item.tier}",
        )
        if item.kind == KIND_NOTICE:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Notice deadline in {alert_days} days: {contract.name}")
            alarm["TRIGGER"] = trigger
            event.add_component(alarm)
        feed.add_component(event)
    return feed.to_ical()


class RenewalFeedView(View):
    """GET /calendar/feed/<token>.ics: the token's owner's calendar, as that user may view it now; else 404.

    No session login: calendar clients cannot log in, the secret token in the URL is the credential.
    """

    def get(self, request, token):
        """Answer the feed, or 404 for an unknown or revoked token (the same answer, so tokens cannot be probed)."""
        feed_token = FeedToken.lookup(token)
        if feed_token is None:
            raise Http404("No such feed.")
        FeedToken.objects.filter(pk=feed_token.pk).update(last_used=timezone.now())
        today = clock.today()
        events = calendar_events(
            today - datetime.timedelta(days=FEED_PAST_DAYS),
            today + datetime.timedelta(days=FEED_FUTURE_DAYS),
            as_of=today,
            user=feed_token.user,
        )
        body = build_feed(events, request, get_setting("renewal_alert_days"))
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="contract-renewals.ics"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class FeedTokenForm(forms.Form):
    """The one input of a new token: its name."""

    name = forms.CharField(max_length=100, strip=True, help_text="What this token is for, e.g. “Outlook on laptop”")


class FeedTokenListView(GenericView):
    """The user's own feed tokens (never anyone else's), with a form to create one (POST)."""

    template_name = "nautobot_contracts/feedtoken_list.html"

    def _render(self, request, form, status=200, created=None):
        context = {
            "title": "Calendar feed tokens",
            "tokens": FeedToken.objects.filter(user=request.user).order_by("-created"),
            "form": form,
            "created": created,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        """List the tokens."""
        return self._render(request, FeedTokenForm())

    def post(self, request):
        """Create a token and show its feed URL once; a bad name answers 400 and creates nothing."""
        form = FeedTokenForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        token, secret = FeedToken.issue(request.user, form.cleaned_data["name"])
        feed_url = request.build_absolute_uri(reverse("plugins:nautobot_contracts:calendar_feed", args=[secret]))
        return self._render(request, FeedTokenForm(), created={"token": token, "feed_url": feed_url})


class FeedTokenRevokeView(GenericView):
    """POST: delete one of the user's own tokens (another user's answers 404); its feed URL answers 404 from now on."""

    def post(self, request, pk):
        """Revoke and go back to the list."""
        get_object_or_404(FeedToken, pk=pk, user=request.user).delete()
        return redirect("plugins:nautobot_contracts:feedtoken_list")
