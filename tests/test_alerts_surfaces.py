"""Contract alerts on every surface: REST (list/filter/PATCH, 405 and 400), UI list/detail/bulk edit and the contract
page panel, filters, GraphQL, and webhooks reaching a local HTTP receiver."""

import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
import json
import threading
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from nautobot.apps.change_logging import web_request_context
from nautobot.apps.testing import (
    APITestCase,
    APIViewTestCases,
    FilterTestCases,
    TestCase,
    ViewTestCases,
    create_job_result_and_run_job,
)
from nautobot.extras.models import JobResult, Webhook
from nautobot.users.models import User
from rest_framework import status

from nautobot_contracts import filters
from nautobot_contracts.models import Contract, ContractAlert
from nautobot_contracts.services import alerts
from tests import factories
from tests.pinning import pin_today

D = datetime.date
API = "plugins-api:nautobot_contracts-api"
URL = "plugins:nautobot_contracts:{}"
TODAY = D(2026, 10, 2)  # the pinned clock: snoozes are checked against it


def pin_clock(test, day=TODAY):
    pin_today(test, day)


def make_alerts():
    """Five alerts by hand (outside any request, as a fixture may): three renewal, one anomaly, one overdue invoice."""
    provider = factories.ServiceProviderFactory(name="Acme")
    other = factories.ServiceProviderFactory(name="Globex")
    first = factories.ContractFactory(name="First", provider=provider)
    second = factories.ContractFactory(name="Second", provider=other)
    third = factories.ContractFactory(name="Third", provider=other, end_date=D(2027, 3, 31))
    invoice = factories.InvoiceFactory(contract=first, invoice_number="INV-9", due_date=D(2026, 11, 1))
    seen = {"first_seen": D(2026, 9, 1), "last_seen": D(2026, 10, 1)}
    rows = [
        ContractAlert.objects.create(
            kind="renewal_notice", severity="soon", contract=first, occasion=D(2026, 12, 31),
            due_date=D(2026, 10, 5), message="First: notice deadline 2026-10-05", **seen,
        ),
        ContractAlert.objects.create(
            kind="renewal_notice", severity="urgent", state="acknowledged", contract=second,
            occasion=D(2026, 12, 31), due_date=D(2026, 10, 10), message="Second: notice deadline 2026-10-10", **seen,
        ),
        ContractAlert.objects.create(
            kind="cost_anomaly", severity="urgent", currency="USD", metric="monthly_burn", occasion=D(2026, 10, 1),
            due_date=D(2026, 10, 12), message="USD monthly_burn rise +50%", snoozed_until=D(2026, 10, 15), **seen,
        ),
        ContractAlert.objects.create(
            kind="renewal_notice", severity="upcoming", contract=third, occasion=D(2027, 3, 31),
            due_date=D(2026, 12, 31), message="Third: notice deadline 2026-12-31", **seen,
        ),
        ContractAlert.objects.create(
            kind="invoice_overdue", severity="soon", state="resolved", contract=first, invoice=invoice,
            occasion=D(2026, 11, 1), due_date=D(2026, 11, 1), message="Invoice INV-9", **seen,
        ),
    ]  # fmt: skip
    return rows


class ContractAlertAPITest(
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
):
    model = ContractAlert
    choices_fields = {"state"}  # the only writable choice field
    # assertInstanceEqual compares the stored date with the JSON string; the snooze is checked in the tests below.
    validation_excluded_fields = ["snoozed_until"]

    @classmethod
    def setUpTestData(cls):
        make_alerts()

    def setUp(self):
        super().setUp()
        pin_clock(self)
        self.update_data = {
            "state": "acknowledged",
            "ack_comment": "Renewal call booked",
            "snoozed_until": "2026-10-09",
        }

    def get_deletable_object(self):  # pragma: no cover  # no delete test: alerts are never deleted by hand
        return None

    def test_get_put_round_trip(self):
        """PUT is not offered (people PATCH the three state fields): 405 and nothing changes."""
        self.user.is_superuser = True
        self.user.save()
        alert = ContractAlert.objects.first()
        before = ContractAlert.objects.filter(pk=alert.pk).values().get()
        url = reverse(f"{API}:contractalert-detail", kwargs={"pk": alert.pk})
        body = self.client.get(url, **self.header).json()
        self.assertHttpStatus(self.client.put(url, body, format="json", **self.header), 405)
        self.assertEqual(ContractAlert.objects.filter(pk=alert.pk).values().get(), before)

    def test_options_returns_expected_choices(self):
        """No POST or PUT, so OPTIONS describes no write actions (DRF lists those for POST/PUT only)."""
        self.user.is_superuser = True
        self.user.save()
        response = self.client.options(self._get_list_url(), **self.header)
        self.assertHttpStatus(response, 200)
        self.assertNotIn("actions", response.json())


class ContractAlertAPIBehaviourTest(APITestCase):
    """POST/PUT/DELETE 405; PATCH only the state fields; 400 for a snooze in the past or a resolved alert."""

    @classmethod
    def setUpTestData(cls):
        cls.renewal, cls.acknowledged, cls.anomaly, cls.third, cls.resolved = make_alerts()

    def setUp(self):
        super().setUp()
        pin_clock(self)
        self.user.is_superuser = True
        self.user.save()
        self.list_url = reverse(f"{API}:contractalert-list")

    def detail(self, alert):
        return reverse(f"{API}:contractalert-detail", kwargs={"pk": alert.pk})

    def test_create_put_delete_not_allowed(self):
        body = {"kind": "renewal_notice", "severity": "soon", "occasion": "2027-01-01"}
        for response in (
            self.client.post(self.list_url, body, format="json", **self.header),
            self.client.put(self.detail(self.renewal), body, format="json", **self.header),
            self.client.delete(self.detail(self.renewal), **self.header),
        ):
            self.assertHttpStatus(response, status.HTTP_405_METHOD_NOT_ALLOWED)
        self.assertEqual(ContractAlert.objects.count(), 5)
        allowed = {m.strip() for m in self.client.options(self.list_url, **self.header)["Allow"].split(",")}
        self.assertEqual(allowed, {"GET", "PATCH", "HEAD", "OPTIONS"})

    def test_acknowledge_sets_who_and_when(self):
        response = self.client.patch(
            self.detail(self.renewal), {"state": "acknowledged", "ack_comment": "On it"}, format="json", **self.header
        )
        self.assertHttpStatus(response, status.HTTP_200_OK)
        self.renewal.refresh_from_db()
        self.assertEqual((self.renewal.state, self.renewal.acknowledged_by), ("acknowledged", self.user))
        self.assertIsNotNone(self.renewal.acknowledged_at)
        self.assertEqual(response.data["ack_comment"], "On it")

    def test_only_state_fields_change(self):
        response = self.client.patch(
            self.detail(self.renewal), {"severity": "missed", "message": "x", "kind": "cost_anomaly"}, format="json",
            **self.header,
        )  # fmt: skip
        self.assertHttpStatus(response, status.HTTP_200_OK)
        self.renewal.refresh_from_db()
        self.assertEqual((self.renewal.severity, self.renewal.kind), ("soon", "renewal_notice"))

    def test_400_answers(self):
        cases = (
            (self.renewal, {"snoozed_until": "2026-10-01"}, "snoozed_until", "Cannot snooze into the past"),
            (self.resolved, {"state": "acknowledged"}, "state", "resolved and cannot be acknowledged"),
            (self.renewal, {"state": "resolved"}, "state", "the Jobs resolve alerts"),
            (self.renewal, {"state": "closed"}, "state", "not a valid choice"),
            (self.renewal, {"snoozed_until": "soon"}, "snoozed_until", "Date has wrong format"),
        )
        for alert, body, field, message in cases:
            with self.subTest(body=body):
                before = ContractAlert.objects.filter(pk=alert.pk).values().get()
                response = self.client.patch(self.detail(alert), body, format="json", **self.header)
                self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
                self.assertIn(message, str(response.data[field]))
                self.assertEqual(ContractAlert.objects.filter(pk=alert.pk).values().get(), before)

    def test_filters(self):
        def ids(query):
            response = self.client.get(f"{self.list_url}?{query}", **self.header)
            self.assertHttpStatus(response, status.HTTP_200_OK)
            return {row["id"] for row in response.data["results"]}

        # Needs action on 2026-10-02: open and not snoozed -> only the first renewal alert (the anomaly is snoozed).
        self.assertEqual(ids("needs_action=true"), {str(self.renewal.pk), str(self.third.pk)})
        self.assertEqual(len(ids("needs_action=false")), 3)
        self.assertEqual(ids("kind=cost_anomaly"), {str(self.anomaly.pk)})
        self.assertEqual(ids("severity=urgent&state=acknowledged"), {str(self.acknowledged.pk)})
        self.assertEqual(ids("provider=Globex"), {str(self.acknowledged.pk), str(self.third.pk)})
        self.assertEqual(ids("contract=First&kind=invoice_overdue"), {str(self.resolved.pk)})
        self.assertEqual(
            ids("due_date__gte=2026-10-05&due_date__lte=2026-10-10"), {str(self.renewal.pk), str(self.acknowledged.pk)}
        )
        self.assertHttpStatus(self.client.get(f"{self.list_url}?needs_action=maybe", **self.header), 400)

    def test_restricted_list(self):
        """A user allowed to view only Globex's alerts gets only those (the list goes through .restrict())."""
        other = User.objects.create_user(username="globex-viewer")
        factories.grant(other, ContractAlert, constraints={"contract__provider__name": "Globex"})
        token = other.tokens.create()
        response = self.client.get(self.list_url, HTTP_AUTHORIZATION=f"Token {token.key}")
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            [row["id"] for row in response.data["results"]], [str(self.acknowledged.pk), str(self.third.pk)]
        )
        response = self.client.get(self.detail(self.renewal), HTTP_AUTHORIZATION=f"Token {token.key}")
        self.assertHttpStatus(response, 404)

    def test_list_query_count_bounded(self):
        def count():
            # A first request fills Nautobot's per-model caches (custom fields, relationships), which creating
            # rows invalidates; the second is the one measured.
            self.client.get(f"{self.list_url}?limit=100", **self.header)
            with CaptureQueriesContext(connection) as queries:
                self.assertHttpStatus(self.client.get(f"{self.list_url}?limit=100", **self.header), 200)
            return len(queries)

        small = count()
        contract = Contract.objects.get(name="First")
        for day in range(1, 21):
            ContractAlert.objects.create(
                kind="invoice_overdue", severity="soon", contract=contract,
                invoice=factories.InvoiceFactory(contract=contract, due_date=D(2026, 8, day)),
                occasion=D(2026, 8, day), first_seen=D(2026, 8, day), last_seen=D(2026, 8, day),
            )  # fmt: skip
        self.assertEqual(count(), small)

    def test_graphql(self):
        query = '{ contract_alerts(kind: "renewal_notice") { kind severity state due_date contract { name } } }'
        response = self.client.post(reverse("graphql-api"), {"query": query}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        rows = sorted(response.json()["data"]["contract_alerts"], key=lambda row: row["contract"]["name"])
        self.assertEqual(
            [(row["contract"]["name"], row["severity"], row["due_date"]) for row in rows],
            [("First", "SOON", "2026-10-05"), ("Second", "URGENT", "2026-10-10"), ("Third", "UPCOMING", "2026-12-31")],
        )


class ContractAlertViewTest(
    ViewTestCases.BulkEditObjectsViewTestCase,
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.GetObjectNotesViewTestCase,
):
    model = ContractAlert

    @classmethod
    def setUpTestData(cls):
        make_alerts()

    def setUp(self):
        super().setUp()
        pin_clock(self)

    def test_no_add_edit_delete_import_routes(self):
        for action in ("add", "import", "edit", "delete", "bulk_delete"):
            with self.subTest(action=action), self.assertRaises(NoReverseMatch):
                reverse(URL.format(f"contractalert_{action}"))
        self.assertTrue(reverse(URL.format("contractalert_bulk_edit")))

    def test_list_defaults_to_needs_action_with_badges(self):
        self.user.is_superuser = True
        self.user.save()
        # Nautobot 3 fills the list's table through htmx: the table request carries HX-Request.
        response = self.client.get(reverse(URL.format("contractalert_list")), HTTP_HX_REQUEST="true")
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("First: notice deadline 2026-10-05", content)
        self.assertNotIn("Second: notice deadline", content)  # acknowledged
        self.assertNotIn("USD monthly_burn rise", content)  # snoozed until 2026-10-15
        self.assertIn('<span class="badge bg-warning">Soon</span>', content)
        # Any filter replaces the default: every state listed.
        response = self.client.get(
            reverse(URL.format("contractalert_list")) + "?state=open&state=acknowledged", HTTP_HX_REQUEST="true"
        )
        content = response.content.decode()
        self.assertIn("Second: notice deadline", content)
        self.assertIn("USD monthly_burn rise", content)
        self.assertIn('<span class="badge bg-danger">Urgent</span>', content)

    # Nautobot's generic bulk-edit tests edit alerts that may include the resolved one: a comment is allowed on every
    # alert (acknowledging a resolved one is refused, as the tests below show).
    bulk_edit_data = {"ack_comment": "Weekly review"}

    def run_bulk_edit(self, alerts_to_edit, **form_data):
        """Run Nautobot's Bulk Edit Objects job (what the list's "Edit Selected" enqueues) with this form."""
        user = User.objects.get_or_create(username="bulk-editor", is_superuser=True)[0]
        with mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None):
            return create_job_result_and_run_job(
                "nautobot.core.jobs.bulk_actions",
                "BulkEditObjects",
                username=user.username,
                content_type=ContentType.objects.get_for_model(ContractAlert).pk,
                form_data={"pk": [str(alert.pk) for alert in alerts_to_edit], **form_data},
                pk_list=[str(alert.pk) for alert in alerts_to_edit],
            ), user

    def test_bulk_acknowledge_and_snooze(self):
        """Acknowledge and snooze two alerts at once: who and when are recorded, the snooze stored."""
        renewal = ContractAlert.objects.get(contract__name="First", kind="renewal_notice")
        anomaly = ContractAlert.objects.get(kind="cost_anomaly")
        result, user = self.run_bulk_edit(
            [renewal, anomaly], state="acknowledged", snoozed_until="2026-10-30", ack_comment="Weekly review"
        )
        self.assertEqual(result.status, "SUCCESS", result.traceback)
        for alert in (renewal, anomaly):
            alert.refresh_from_db()
            self.assertEqual(
                (alert.state, alert.snoozed_until, alert.acknowledged_by, alert.ack_comment),
                ("acknowledged", D(2026, 10, 30), user, "Weekly review"),
            )

    def test_bulk_edit_refuses_a_past_snooze_and_a_resolved_alert(self):
        renewal = ContractAlert.objects.get(contract__name="First", kind="renewal_notice")
        result, _user = self.run_bulk_edit([renewal], snoozed_until="2026-09-01")
        self.assertEqual(result.status, "FAILURE")
        resolved = ContractAlert.objects.get(state="resolved")
        result, _user = self.run_bulk_edit([resolved], state="acknowledged")
        self.assertEqual(result.status, "FAILURE")
        renewal.refresh_from_db()
        resolved.refresh_from_db()
        self.assertEqual((renewal.snoozed_until, resolved.state), (None, "resolved"))

    def test_edit_selected_names_every_refused_alert_and_changes_none(self):
        """The list's Edit Selected is checked on every selected alert before Nautobot's Bulk Edit Job runs."""
        self.user.is_superuser = True
        self.user.save()
        renewal = ContractAlert.objects.get(contract__name="First", kind="renewal_notice")
        resolved = ContractAlert.objects.get(state="resolved")
        jobs_before = JobResult.objects.count()
        data = {"pk": [str(renewal.pk), str(resolved.pk)], "_apply": True, "state": "acknowledged"}
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse(URL.format("contractalert_bulk_edit")), data)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "Nothing was changed: the edit is refused for 1 of the selected objects.")
        self.assertContains(response, f"{resolved}: state: This alert is resolved and cannot be acknowledged.")
        self.assertEqual(JobResult.objects.count(), jobs_before)
        renewal.refresh_from_db()
        self.assertEqual(renewal.state, "open")

    def test_contract_page_shows_its_alerts(self):
        self.user.is_superuser = True
        self.user.save()
        contract = Contract.objects.get(name="First")
        response = self.client.get(contract.get_absolute_url())
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn("First: notice deadline 2026-10-05", content)
        self.assertIn("Invoice INV-9", content)
        self.assertNotIn("Second: notice deadline", content)

    def test_detail_page(self):
        self.user.is_superuser = True
        self.user.save()
        alert = ContractAlert.objects.get(contract__name="Second")
        content = self.client.get(alert.get_absolute_url()).content.decode()
        self.assertIn('<span class="badge bg-danger">Urgent</span>', content)
        self.assertIn("Acknowledged", content)
        self.assertIn("2026-10-10", content.replace("Oct. 10, 2026", "2026-10-10"))


class ContractAlertFilterTest(FilterTestCases.FilterTestCase):
    queryset = ContractAlert.objects.all()
    filterset = filters.ContractAlertFilterSet
    generic_filter_tests = (
        ["contract", "contract__name"],
        ["contract", "contract__id"],
        ["provider", "contract__provider__name"],
        ["provider", "contract__provider__id"],
        ["invoice", "invoice__id"],
        ["kind"],
        ["severity"],
        ["state"],
        ["occasion"],
        ["due_date"],
        ["message"],
    )

    @classmethod
    def setUpTestData(cls):
        make_alerts()
        contract = Contract.objects.get(name="First")
        for day in (2, 3):  # three invoices in all, for the multi-value invoice filter
            ContractAlert.objects.create(
                kind="invoice_overdue", severity="urgent", state="resolved", contract=contract,
                invoice=factories.InvoiceFactory(contract=contract, due_date=D(2026, 11, day)),
                occasion=D(2026, 11, day), due_date=D(2026, 11, day), first_seen=D(2026, 11, 5),
                last_seen=D(2026, 11, 5),
            )  # fmt: skip

    def test_needs_action(self):
        with mock.patch("nautobot_contracts.clock.today", return_value=TODAY):
            result = self.filterset({"needs_action": True}, self.queryset).qs
            self.assertEqual(
                [alert.message for alert in result],
                ["First: notice deadline 2026-10-05", "Third: notice deadline 2026-12-31"],
            )
        with mock.patch("nautobot_contracts.clock.today", return_value=D(2026, 10, 15)):  # the snooze has ended
            self.assertEqual(self.filterset({"needs_action": True}, self.queryset).qs.count(), 3)
            self.assertEqual(self.filterset({"snoozed": True}, self.queryset).qs.count(), 0)


class _Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        """Quiet."""


class AlertWebhookTest(TestCase):
    """A Job run's alert writes fire Nautobot webhooks; the POST reaches a receiver on 127.0.0.1."""

    def test_create_and_severity_rise_reach_the_receiver(self):
        server = HTTPServer(("127.0.0.1", 0), _Receiver)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        _Receiver.received = []
        webhook = Webhook.objects.create(
            name="Alerts to chat",
            payload_url=f"http://127.0.0.1:{server.server_port}/hook",
            type_create=True,
            type_update=True,
            http_content_type="application/json",
            body_template=(
                '{"kind": "{{ data.kind }}", "severity": "{{ data.severity }}", '
                '"contract": "{{ data.contract.name }}", "due_date": "{{ data.due_date }}", "event": "{{ event }}"'
                '{% if snapshots.prechange %}, "was": "{{ snapshots.prechange.severity }}"{% endif %}}'
            ),
            ssl_verification=False,
        )
        webhook.content_types.set([ContentType.objects.get_for_model(ContractAlert)])
        factories.ContractFactory(
            name="Hooked", start_date=D(2025, 1, 1), end_date=D(2026, 12, 31), notice_period_days=60
        )
        user = User.objects.create_user(username="hook-runner", is_superuser=True)
        # Nautobot 3.2 refuses loopback payload URLs unconditionally (SSRF policy, even with WEBHOOK_ALLOWED_HOSTS);
        # the worker's check is pinned to the receiver's address so the real POST reaches this test's server.
        ssrf = mock.patch("nautobot.extras.webhooks.validate_webhook_url", return_value="127.0.0.1")
        ssrf.start()
        self.addCleanup(ssrf.stop)
        # Webhooks are enqueued when the write commits (eager Celery runs them on the spot).
        for day in (D(2026, 10, 2), D(2026, 10, 3), D(2026, 10, 18)):  # soon: created; unchanged; urgent: rose
            with self.captureOnCommitCallbacks(execute=True), web_request_context(user):
                alerts.sync_renewal_alerts(day)
        hook = {"kind": "renewal_notice", "contract": "Hooked", "due_date": "2026-11-01"}
        self.assertEqual(
            _Receiver.received,
            [
                {**hook, "severity": "soon", "event": "created"},
                {**hook, "severity": "urgent", "event": "updated", "was": "soon"},
            ],
        )
