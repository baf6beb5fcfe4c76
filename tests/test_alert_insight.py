"""Open alerts where people look: the counts and the ranked list (services.alerts), the dashboard counter and the
home-page "Open alerts" panel, restricted to the viewer."""

import datetime

from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.extras.registry import registry

from nautobot_contracts import homepage
from nautobot_contracts.models import Contract, ContractAlert
from nautobot_contracts.services import alerts, dashboard
from tests import factories
from tests.pinning import pin_today

D = datetime.date
AS_OF = D(2026, 10, 2)


class OpenAlertsTest(TestCase):
    """Hand-made alerts: two open urgent (one snoozed), one open soon, one acknowledged, one resolved."""

    @classmethod
    def setUpTestData(cls):
        cls.first = factories.ContractFactory(name="First", end_date=D(2026, 12, 31))
        cls.second = factories.ContractFactory(name="Second", end_date=D(2026, 12, 31))
        seen = {"first_seen": D(2026, 9, 1), "last_seen": D(2026, 10, 1)}
        create = ContractAlert.objects.create
        cls.soon = create(
            kind="renewal_notice",
            severity="soon",
            contract=cls.first,
            occasion=D(2026, 12, 31),
            due_date=D(2026, 10, 5),
            message="First: give notice",
            **seen,
        )
        cls.urgent = create(
            kind="renewal_notice",
            severity="urgent",
            contract=cls.second,
            occasion=D(2026, 12, 31),
            due_date=D(2026, 10, 20),
            message="Second: give notice",
            **seen,
        )
        cls.snoozed = create(
            kind="cost_anomaly",
            severity="urgent",
            currency="USD",
            metric="monthly_burn",
            occasion=D(2026, 10, 1),
            due_date=D(2026, 10, 3),
            snoozed_until=D(2026, 10, 15),
            message="USD burn rise",
            **seen,
        )
        create(
            kind="cost_anomaly",
            severity="soon",
            state="acknowledged",
            currency="EUR",
            metric="monthly_burn",
            occasion=D(2026, 10, 1),
            message="EUR burn rise",
            **seen,
        )
        create(
            kind="renewal_notice", severity="missed", state="resolved", contract=cls.first, occasion=D(2025, 12, 31),
            message="First: old term", **seen,
        )  # fmt: skip

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)

    def viewer(self, constraints=None):
        user = get_user_model().objects.create_user(username="alert-viewer")
        factories.grant(user, ContractAlert, constraints=constraints)
        factories.grant(user, Contract)
        return get_user_model().objects.get(pk=user.pk)

    def test_open_counts_per_severity(self):
        with self.assertNumQueries(1):
            counts = alerts.open_alert_counts()
        self.assertEqual(counts, {"upcoming": 0, "soon": 1, "urgent": 2, "missed": 0})
        viewer = self.viewer({"kind": "renewal_notice"})
        self.assertEqual(alerts.open_alert_counts(user=viewer), {"upcoming": 0, "soon": 1, "urgent": 1, "missed": 0})

    def test_needing_action_most_severe_first(self):
        with self.assertNumQueries(2):
            rows, total = alerts.alerts_needing_action(AS_OF)
        # The snoozed alert does not need action; urgent before soon, whatever the due dates.
        self.assertEqual((rows, total), ([self.urgent, self.soon], 2))
        rows, total = alerts.alerts_needing_action(AS_OF, limit=1)
        self.assertEqual((rows, total), ([self.urgent], 2))
        # On the day the snooze ends it needs action again, and it is due first among the urgent ones.
        rows, _ = alerts.alerts_needing_action(D(2026, 10, 15))
        self.assertEqual(rows, [self.snoozed, self.urgent, self.soon])

    def test_dashboard_counter(self):
        self.assertEqual(dashboard.dashboard(AS_OF).open_alerts, {"upcoming": 0, "soon": 1, "urgent": 2, "missed": 0})
        # A provider filter keeps only the alerts of that provider's contracts (anomalies have no contract).
        figures = dashboard.dashboard(AS_OF, provider=self.second.provider)
        self.assertEqual(figures.open_alerts, {"upcoming": 0, "soon": 0, "urgent": 1, "missed": 0})
        self.user.is_superuser = True
        self.user.save()
        response = self.client.get(reverse("plugins:nautobot_contracts:dashboard"), {"as_of": AS_OF.isoformat()})
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("Open alerts", content)
        self.assertIn("1 soon · 2 urgent", content)

    def test_home_panel(self):
        self.assertEqual(registry["homepage_layout"]["panels"]["Open alerts"]["permissions"], {
            "nautobot_contracts.view_contractalert"
        })  # fmt: skip
        request = RequestFactory().get("/")
        request.user = self.viewer({"kind": "renewal_notice", "contract__name": "First"})
        data = homepage.open_alerts(request)
        self.assertEqual(data["total"], 1)
        self.assertEqual([(row["message"], row["severity"]) for row in data["rows"]], [("First: give notice", "soon")])
        request.user = get_user_model().objects.create_user(username="nobody")
        with self.assertNumQueries(1):  # the permission lookup only: no alert is read for a user who may see none
            self.assertEqual(homepage.open_alerts(request), {"total": 0, "rows": []})

    def test_home_page_shows_the_panel(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.get(reverse("home"))
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("Open alerts", content)
        self.assertLess(content.index("Second: give notice"), content.index("First: give notice"))
