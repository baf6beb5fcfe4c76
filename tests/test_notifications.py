"""Renewal owners and the "Send contract notifications" Job: digests, no repeats, fallback, restriction, failures."""

import datetime
import os
from pathlib import Path
import socket
import subprocess
import sys
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test import SimpleTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices
from nautobot.extras.models import Contact, ContactAssociation, JobLogEntry, JobResult, Role, Team
from nautobot.users.models import User

from development import local_services
from nautobot_contracts import signals
from nautobot_contracts.app_settings import APP_NAME
from nautobot_contracts.choices import AlertKindChoices, AlertSeverityChoices, AlertStateChoices
from nautobot_contracts.models import Contract, ContractAlert
from nautobot_contracts.services import notifications
from tests import factories

MODULE = "nautobot_contracts.jobs.notifications"
JOB = "SendContractNotifications"
AS_OF = datetime.date(2026, 12, 2)

RENEWAL = AlertKindChoices.KIND_RENEWAL_NOTICE
UPCOMING = AlertSeverityChoices.SEVERITY_UPCOMING
SOON = AlertSeverityChoices.SEVERITY_SOON
URGENT = AlertSeverityChoices.SEVERITY_URGENT
MISSED = AlertSeverityChoices.SEVERITY_MISSED


def app_config(**settings):
    """PLUGINS_CONFIG with the app's settings changed (the rest as the test configuration has them)."""
    from django.conf import settings as django_settings  # pylint: disable=import-outside-toplevel

    config = {key: dict(value) for key, value in django_settings.PLUGINS_CONFIG.items()}
    config[APP_NAME].update(settings)
    return override_settings(PLUGINS_CONFIG=config)


def make_alert(contract=None, severity=URGENT, due_date=None, kind=RENEWAL, occasion=None, **fields):
    """An open alert as the alert Jobs write it."""
    occasion = occasion or (contract.end_date if contract else AS_OF)
    return ContractAlert.objects.create(
        kind=kind,
        severity=severity,
        contract=contract,
        occasion=occasion,
        due_date=due_date,
        first_seen=AS_OF,
        last_seen=AS_OF,
        **fields,
    )


def closed_port():
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NotificationTestBase(TestCase):
    """Four contracts: owned by a contact, by a team with an address, by a team without one, and by nobody."""

    @classmethod
    def setUpTestData(cls):
        cls.role = Role.objects.get(name=notifications.RENEWAL_OWNER_ROLE)
        cls.status = factories.status_for(ContactAssociation, "Active")
        provider = factories.ServiceProviderFactory(name="Acme Networks")
        end = datetime.date(2026, 12, 31)
        cls.c_alice = factories.ContractFactory(name="Acme Core Support", provider=provider, end_date=end)
        cls.c_team = factories.ContractFactory(name="Acme Transit", provider=provider, end_date=end)
        cls.c_members = factories.ContractFactory(name="Acme Colo", provider=provider, end_date=end)
        cls.c_orphan = factories.ContractFactory(name="Acme Licences", provider=provider, end_date=end)
        cls.alice = Contact.objects.create(name="Alice", email="Alice@Example.com")
        cls.netops = Team.objects.create(name="NetOps", email="netops@example.com")
        cls.facilities = Team.objects.create(name="Facilities")
        cls.bob = Contact.objects.create(name="Bob", email="bob@example.com")
        cls.carol = Contact.objects.create(name="Carol", email="carol@example.com")
        cls.facilities.contacts.add(cls.bob, cls.carol)
        cls.own(cls.c_alice, contact=cls.alice)
        cls.own(cls.c_team, team=cls.netops)
        cls.own(cls.c_members, team=cls.facilities)
        # Alice is also the billing contact of the orphan contract: another role does not make her its owner.
        ContactAssociation.objects.create(
            contact=cls.alice,
            associated_object_type=ContentType.objects.get_for_model(Contract),
            associated_object_id=cls.c_orphan.pk,
            role=Role.objects.get(name="Billing"),
            status=cls.status,
        )

    @classmethod
    def own(cls, contract, contact=None, team=None):
        return ContactAssociation.objects.create(
            contact=contact,
            team=team,
            associated_object_type=ContentType.objects.get_for_model(Contract),
            associated_object_id=contract.pk,
            role=cls.role,
            status=cls.status,
        )

    def setUp(self):
        super().setUp()
        # Job log entries through the test's connection (see tests/test_jobs_coverage.py).
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)

    def run_job(self, username="notifier", **job_kwargs):
        _, job_model = get_job_class_and_model(MODULE, JOB)
        job_kwargs.setdefault("as_of", AS_OF.isoformat())
        job_result = run_job_for_testing(job_model, username=username, job_kwargs=job_kwargs)
        job_result.refresh_from_db()
        return job_result

    def run_ok(self, **job_kwargs):
        job_result = self.run_job(**job_kwargs)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        return job_result.result

    def assert_in_page(self, text, content, present=True):
        """Like assertIn/assertNotIn, without printing the whole page on failure."""
        if (text in content) != present:
            self.fail(f"{text!r} {'not ' if present else ''}found in the page")

    def outbox(self):
        """{recipient: message} of the mails sent so far."""
        self.assertTrue(all(len(message.to) == 1 for message in mail.outbox))
        return {message.to[0]: message for message in mail.outbox}


class RenewalOwnerRoleTest(NotificationTestBase):
    """The Role exists after migrate, can be used on associations to contracts, and the handler is idempotent."""

    def test_role_created_on_migrate_for_contact_associations(self):
        self.assertEqual(self.role.name, "Renewal owner")
        self.assertIn(ContentType.objects.get_for_model(ContactAssociation), self.role.content_types.all())
        # RoleField only offers roles bound to ContactAssociation: the association validates.
        association = ContactAssociation(
            contact=self.bob,
            associated_object_type=ContentType.objects.get_for_model(Contract),
            associated_object_id=self.c_orphan.pk,
            role=self.role,
            status=self.status,
        )
        association.validated_save()

    def test_handler_is_idempotent_and_keeps_an_existing_role(self):
        self.role.description = "Edited by an admin"
        self.role.save()
        signals.create_renewal_owner_role(sender=None)
        signals.create_renewal_owner_role(sender=None)
        self.assertEqual(Role.objects.filter(name="Renewal owner").count(), 1)
        self.assertEqual(Role.objects.get(name="Renewal owner").description, "Edited by an admin")

    def test_owner_emails(self):
        owners = notifications.renewal_owner_emails(
            [self.c_alice.pk, self.c_team.pk, self.c_members.pk, self.c_orphan.pk]
        )
        self.assertEqual(
            owners,
            {
                self.c_alice.pk: {"alice@example.com"},  # lower-cased
                self.c_team.pk: {"netops@example.com"},  # the team's own address
                self.c_members.pk: {"bob@example.com", "carol@example.com"},  # a team without one: its members
            },
        )

    def test_contract_page_lists_owners_with_add_link(self):
        user = User.objects.create(username="owner-admin", is_superuser=True)
        self.client.force_login(user)
        response = self.client.get(self.c_alice.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        self.assert_in_page("RENEWAL OWNERS", content)
        self.assert_in_page(self.alice.get_absolute_url(), content)
        self.assert_in_page("Alice@Example.com", content)
        add_url = reverse("extras:object_contact_team_assign")
        self.assert_in_page(
            f"{add_url}?associated_object_type={ContentType.objects.get_for_model(Contract).pk}", content
        )
        self.assert_in_page(f"role={self.role.pk}", content)
        # The link opens Nautobot's assign form with the role chosen.
        form = self.client.get(
            f"{add_url}?associated_object_type={ContentType.objects.get_for_model(Contract).pk}"
            f"&associated_object_id={self.c_alice.pk}&role={self.role.pk}"
        )
        self.assertEqual(form.status_code, 200)
        self.assertEqual(str(form.context["form"].initial["role"]), str(self.role.pk))

    def test_contract_page_owners_restricted_and_no_add_link_without_permission(self):
        user = User.objects.create(username="viewer")
        factories.grant(user, Contract)
        self.client.force_login(user)
        content = self.client.get(self.c_alice.get_absolute_url()).content.decode()
        self.assert_in_page("RENEWAL OWNERS", content)
        self.assert_in_page("Alice@Example.com", content, present=False)  # may not view contact associations
        self.assert_in_page("Add renewal owner", content, present=False)
        factories.grant(user, ContactAssociation)
        # The panel's owners: only those whose contact or team the viewer may view. (Nautobot's own Contacts panel
        # on the same page lists associations with only the association permission: core's rule, not changed here.)
        self.assertEqual(list(notifications.renewal_owners(self.c_alice, user=User.objects.get(pk=user.pk))), [])
        factories.grant(user, Contact)
        factories.grant(user, Team)
        self.client.force_login(User.objects.get(pk=user.pk))
        content = self.client.get(self.c_alice.get_absolute_url()).content.decode()
        self.assert_in_page("Alice@Example.com", content)
        self.assert_in_page("Add renewal owner", content, present=False)


class DigestTest(NotificationTestBase):
    """What is sent to whom, and that nothing is sent twice at the same severity."""

    def setUp(self):
        super().setUp()
        self.a_urgent = make_alert(self.c_alice, URGENT, datetime.date(2026, 12, 10), message="Give notice by 10 Dec")
        self.a_upcoming = make_alert(
            self.c_alice, UPCOMING, datetime.date(2027, 2, 1), occasion=datetime.date(2027, 3, 1)
        )
        self.a_team = make_alert(self.c_team, SOON, datetime.date(2026, 12, 20))
        self.a_members = make_alert(self.c_members, MISSED, datetime.date(2026, 11, 30))

    def test_digest_contents(self):
        result = self.run_ok()
        self.assertEqual(result["as_of"], "2026-12-02")
        self.assertFalse(result["dry_run"])
        self.assertEqual(
            result["messages"],
            [
                {"to": ["alice@example.com"], "alerts": [str(self.a_urgent.pk), str(self.a_upcoming.pk)]},
                {"to": ["bob@example.com"], "alerts": [str(self.a_members.pk)]},
                {"to": ["carol@example.com"], "alerts": [str(self.a_members.pk)]},
                {"to": ["netops@example.com"], "alerts": [str(self.a_team.pk)]},
            ],
        )
        sent = self.outbox()
        self.assertEqual(set(sent), {"alice@example.com", "bob@example.com", "carol@example.com", "netops@example.com"})
        alice = sent["alice@example.com"]
        self.assertEqual(alice.subject, "[Nautobot contracts] 2 contract alert(s) need action (2026-12-02)")
        body = alice.body
        # Most severe first; 2026-12-02 -> 2026-12-10 is 8 days, -> 2027-02-01 is 61 days.
        self.assertLess(body.index("[URGENT]"), body.index("[UPCOMING]"))
        self.assertIn(
            "[URGENT] Renewal notice: Acme Core Support (Acme Networks)\n  Act by 2026-12-10 (in 8 day(s))", body
        )
        self.assertIn("  Give notice by 10 Dec\n", body)
        self.assertIn(
            "[UPCOMING] Renewal notice: Acme Core Support (Acme Networks)\n  Act by 2027-02-01 (in 61 day(s))", body
        )
        self.assertIn(
            f"  Alert: {self.a_urgent.get_absolute_url()}\n  Contract: {self.c_alice.get_absolute_url()}\n", body
        )
        self.assertNotIn("Acme Transit", body)
        self.assertIn("[MISSED] Renewal notice: Acme Colo", sent["bob@example.com"].body)
        self.assertIn("Act by 2026-11-30 (2 day(s) ago)", sent["bob@example.com"].body)
        self.assertEqual(alice.alternatives[0][1], "text/html")
        self.assertIn("<strong>Urgent</strong>", alice.alternatives[0][0])
        # Marked at the severity mailed.
        for alert in (self.a_urgent, self.a_upcoming, self.a_team, self.a_members):
            alert.refresh_from_db()
            self.assertEqual(alert.notified_severity, alert.severity)
            self.assertIsNotNone(alert.notified_at)

    def test_overdue_invoice_goes_to_its_contracts_owners(self):
        ContractAlert.objects.all().delete()
        invoice = factories.InvoiceFactory(
            contract=self.c_team, invoice_number="INV-7", due_date=datetime.date(2026, 11, 2)
        )
        # As services.alerts writes it (contract and invoice), and without the contract: both reach NetOps.
        for contract in (self.c_team, None):
            make_alert(
                contract, SOON, invoice.due_date, kind=AlertKindChoices.KIND_INVOICE_OVERDUE, invoice=invoice,
                occasion=invoice.due_date if contract else datetime.date(2026, 11, 3),
            )  # fmt: skip
        result = self.run_ok()
        self.assertEqual([message["to"] for message in result["messages"]], [["netops@example.com"]])
        self.assertEqual(len(result["messages"][0]["alerts"]), 2)
        body = self.outbox()["netops@example.com"].body
        # 2026-11-02 -> 2026-12-02 is 30 days.
        expected = "[SOON] Invoice overdue: invoice INV-7 of Acme Transit (Acme Networks)\n"
        expected += "  Act by 2026-11-02 (30 day(s) ago)\n"
        self.assertEqual(body.count(expected), 2)
        self.assertIn(f"  Invoice: {invoice.get_absolute_url()}\n", body)

    def test_links_use_base_url(self):
        with app_config(notification_base_url="https://nautobot.example.com/"):
            self.run_ok()
        body = self.outbox()["alice@example.com"].body
        self.assertIn(f"  Contract: https://nautobot.example.com{self.c_alice.get_absolute_url()}\n", body)

    def test_no_repeat(self):
        self.run_ok()
        mail.outbox.clear()
        result = self.run_ok()
        self.assertEqual(result["messages"], [])
        self.assertEqual(mail.outbox, [])
        # Re-raising the same severity (an alert Job re-run) changes nothing either.
        self.a_urgent.refresh_from_db()
        self.a_urgent.last_seen = AS_OF + datetime.timedelta(days=1)
        self.a_urgent.save()
        self.assertEqual(self.run_ok(as_of="2026-12-03")["messages"], [])

    def test_renotify_on_severity_rise_only(self):
        self.run_ok()
        mail.outbox.clear()
        self.a_urgent.refresh_from_db()
        self.a_team.refresh_from_db()
        self.a_urgent.severity = MISSED
        self.a_urgent.save()
        self.a_team.severity = UPCOMING  # a fall is not news
        self.a_team.save()
        result = self.run_ok(as_of="2026-12-11")
        self.assertEqual(result["messages"], [{"to": ["alice@example.com"], "alerts": [str(self.a_urgent.pk)]}])
        body = self.outbox()["alice@example.com"].body
        expected = "[MISSED] Renewal notice: Acme Core Support (Acme Networks)\n  Act by 2026-12-10 (1 day(s) ago)"
        self.assertIn(f"{expected}; was urgent\n", body)
        self.a_urgent.refresh_from_db()
        self.assertEqual(self.a_urgent.notified_severity, MISSED)

    def test_snoozed_acknowledged_and_resolved_excluded(self):
        self.a_urgent.snoozed_until = datetime.date(2026, 12, 5)
        self.a_urgent.save()
        self.a_team.state = AlertStateChoices.STATE_ACKNOWLEDGED
        self.a_team.save()
        self.a_members.state = AlertStateChoices.STATE_RESOLVED
        self.a_members.save()
        result = self.run_ok()
        self.assertEqual(result["messages"], [{"to": ["alice@example.com"], "alerts": [str(self.a_upcoming.pk)]}])
        self.a_urgent.refresh_from_db()
        self.assertEqual(self.a_urgent.notified_severity, "")
        # On the snooze date itself the alert needs action again, and is mailed.
        result = self.run_ok(as_of="2026-12-05")
        self.assertEqual(result["messages"], [{"to": ["alice@example.com"], "alerts": [str(self.a_urgent.pk)]}])

    def test_dry_run_sends_and_records_nothing(self):
        result = self.run_ok(dry_run=True)
        self.assertTrue(result["dry_run"])
        self.assertEqual(len(result["messages"]), 4)
        self.assertEqual(result["messages"][0]["alerts"], [str(self.a_urgent.pk), str(self.a_upcoming.pk)])
        self.assertEqual(mail.outbox, [])
        self.assertFalse(ContractAlert.objects.exclude(notified_severity="").exists())
        self.assertFalse(ContractAlert.objects.filter(notified_at__isnull=False).exists())
        # ... so the real run afterwards sends the same.
        self.assertEqual(self.run_ok()["messages"], result["messages"])

    def test_mail_server_down_fails_and_marks_nothing(self):
        port = closed_port()
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port
        ):
            job_result = self.run_job()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertIn(f"SMTP server 127.0.0.1:{port} refused or could not be reached", job_result.traceback)
        self.assertIn("No alert was marked as notified", job_result.traceback)
        self.assertFalse(ContractAlert.objects.exclude(notified_severity="").exists())
        # The next run, with a working server, sends every digest.
        self.assertEqual(len(self.run_ok()["messages"]), 4)

    def test_refused_midway_marks_nothing(self):
        """The second message is refused after the first was accepted: nothing is marked (all or none)."""
        original = mail.backends.locmem.EmailBackend.send_messages
        calls = []

        def refuse_second(backend, messages):
            for message in messages:
                calls.append(message.to)
                if len(calls) == 2:
                    import smtplib  # pylint: disable=import-outside-toplevel

                    raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
                original(backend, [message])
            return len(messages)

        with mock.patch.object(mail.backends.locmem.EmailBackend, "send_messages", refuse_second):
            job_result = self.run_job()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertIn("SMTPRecipientsRefused", job_result.traceback)
        self.assertEqual(len(mail.outbox), 1)
        self.assertFalse(ContractAlert.objects.exclude(notified_severity="").exists())


class FallbackTest(NotificationTestBase):
    """Alerts whose contract has no owner (and cost anomalies) go to notification_fallback_emails."""

    def setUp(self):
        super().setUp()
        self.orphan = make_alert(self.c_orphan, SOON, datetime.date(2026, 12, 20))
        self.anomaly = make_alert(
            None, URGENT, None, kind=AlertKindChoices.KIND_COST_ANOMALY, currency="USD", metric="monthly_burn",
            message="monthly_burn rose 40.00% (threshold 15%)",
        )  # fmt: skip
        self.owned = make_alert(self.c_alice, SOON, datetime.date(2026, 12, 20))

    def test_fallback_recipients(self):
        with app_config(notification_fallback_emails=["Finance@example.com", "ops@example.com", "finance@example.com"]):
            result = self.run_ok()
        both = [str(self.anomaly.pk), str(self.orphan.pk)]  # urgent first
        self.assertEqual(
            result["messages"],
            [
                {"to": ["alice@example.com"], "alerts": [str(self.owned.pk)]},
                {"to": ["finance@example.com"], "alerts": both},
                {"to": ["ops@example.com"], "alerts": both},
            ],
        )
        body = self.outbox()["finance@example.com"].body
        self.assertIn("[URGENT] Cost anomaly: USD monthly_burn\n  monthly_burn rose 40.00% (threshold 15%)\n", body)
        self.assertIn("[SOON] Renewal notice: Acme Licences (Acme Networks)", body)

    def test_without_fallback_unowned_alerts_wait(self):
        with app_config(notification_fallback_emails=[]):
            job_result = self.run_job()
        self.assertEqual(job_result.result["messages"], [{"to": ["alice@example.com"], "alerts": [str(self.owned.pk)]}])
        warning = JobLogEntry.objects.get(job_result=job_result, log_level=LogLevelChoices.LOG_WARNING)
        self.assertIn("2 alert(s) have no renewal owner with an e-mail address", warning.message)
        self.orphan.refresh_from_db()
        self.assertEqual(self.orphan.notified_severity, "")
        # Once an owner exists, the alert is mailed to them.
        self.own(self.c_orphan, contact=self.bob)
        with app_config(notification_fallback_emails=[]):
            result = self.run_ok()
        self.assertEqual(result["messages"], [{"to": ["bob@example.com"], "alerts": [str(self.orphan.pk)]}])


class RestrictionTest(NotificationTestBase):
    """A recipient who is a Nautobot user gets only what that user may view; the running user's view bounds the run."""

    def setUp(self):
        super().setUp()
        self.a_urgent = make_alert(self.c_alice, URGENT, datetime.date(2026, 12, 10))
        self.a_upcoming = make_alert(
            self.c_alice, UPCOMING, datetime.date(2027, 2, 1), occasion=datetime.date(2027, 3, 1)
        )
        self.a_team = make_alert(self.c_team, SOON, datetime.date(2026, 12, 20))

    def test_recipient_user_restriction(self):
        user = User.objects.create(username="alice", email="ALICE@example.com")
        factories.grant(user, ContractAlert, constraints={"severity": URGENT})
        factories.grant(user, Contract)
        result = self.run_ok()
        self.assertEqual(
            result["messages"],
            [
                {"to": ["alice@example.com"], "alerts": [str(self.a_urgent.pk)]},
                {"to": ["netops@example.com"], "alerts": [str(self.a_team.pk)]},  # no user: an outside contact
            ],
        )
        self.assertNotIn("UPCOMING", self.outbox()["alice@example.com"].body)
        # Withheld alerts are not marked: they go out once the user may view them.
        self.a_upcoming.refresh_from_db()
        self.assertEqual(self.a_upcoming.notified_severity, "")
        warnings = JobLogEntry.objects.filter(log_level=LogLevelChoices.LOG_WARNING).values_list("message", flat=True)
        self.assertIn("1 alert(s) were withheld: no recipient's Nautobot user may view them.", list(warnings))

    def test_recipient_user_must_view_the_alerts_contract(self):
        """A digest names the contract: an alert whose contract the recipient's user may not view is withheld."""
        user = User.objects.create(username="alice", email="alice@example.com")
        factories.grant(user, ContractAlert)
        factories.grant(user, Contract, constraints={"pk__in": [str(self.c_team.pk)]})
        result = self.run_ok()
        self.assertNotIn("alice@example.com", [to for message in result["messages"] for to in message["to"]])
        for alert in (self.a_urgent, self.a_upcoming):
            alert.refresh_from_db()
            self.assertEqual(alert.notified_severity, "")
        factories.grant(user, Contract)
        result = self.run_ok()
        alice = [message for message in result["messages"] if message["to"] == ["alice@example.com"]]
        self.assertEqual(sorted(alice[0]["alerts"]), sorted([str(self.a_urgent.pk), str(self.a_upcoming.pk)]))

    def test_deactivated_recipient_user_gets_nothing(self):
        user = User.objects.create(username="alice", email="alice@example.com", is_active=False)
        factories.grant(user, ContractAlert)
        result = self.run_ok()
        self.assertEqual(result["messages"], [{"to": ["netops@example.com"], "alerts": [str(self.a_team.pk)]}])

    def test_running_user_restriction(self):
        runner = User.objects.create(username="limited-runner")
        factories.grant(runner, ContractAlert, constraints={"contract__name": "Acme Transit"})
        result = self.run_ok(username="limited-runner")
        self.assertEqual(result["messages"], [{"to": ["netops@example.com"], "alerts": [str(self.a_team.pk)]}])
        self.assertEqual(ContractAlert.objects.exclude(notified_severity="").count(), 1)


class QueryCountTest(NotificationTestBase):
    """Planning, sending and marking take the same number of queries for 4 alerts and for 60."""

    def measure(self):
        with CaptureQueriesContext(connection) as queries:
            plan = notifications.plan_notifications(AS_OF, lock=True)
            notifications.send_digests(plan)
            notifications.mark_notified(plan)
        return len(queries), plan

    def make_alerts(self, count):
        contracts = [self.c_alice, self.c_team, self.c_members, self.c_orphan]
        for index in range(count):
            make_alert(contracts[index % 4], SOON, AS_OF, occasion=AS_OF + datetime.timedelta(days=index))

    def test_bounded(self):
        user = User.objects.create(username="alice", email="alice@example.com")
        factories.grant(user, ContractAlert)
        factories.grant(user, Contract)
        self.make_alerts(4)
        with app_config(notification_fallback_emails=["finance@example.com"]):
            small, small_plan = self.measure()
            ContractAlert.objects.all().delete()
            mail.outbox.clear()
            self.make_alerts(60)
            large, large_plan = self.measure()
        self.assertEqual(len(small_plan.notified_alerts), 4)
        self.assertEqual(len(small_plan.digests), 5)  # alice, bob, carol, finance, netops
        self.assertEqual(len(large_plan.notified_alerts), 60)
        self.assertEqual(len(mail.outbox), 5)  # alice, netops, bob, carol, finance
        self.assertEqual(small, large)
        self.assertLessEqual(large, 12)


class EndToEndTest(NotificationTestBase):
    """Alerts raised by the renewal check (services.alerts), then mailed; escalation mails again, once."""

    def test_renewal_alerts_are_mailed_once_per_severity(self):
        from nautobot_contracts.services import alerts  # pylint: disable=import-outside-toplevel

        # Acme Core Support ends 2026-12-31 with a 30-day notice period: deadline 2026-12-01.
        self.c_alice.notice_period_days = 30
        self.c_alice.validated_save()
        # 2026-11-01: 30 days to the deadline -> soon (urgent is 14 days).
        alerts.sync_renewal_alerts(datetime.date(2026, 11, 1))
        alert = ContractAlert.objects.get(contract=self.c_alice)
        self.assertEqual((alert.severity, alert.due_date), (SOON, datetime.date(2026, 12, 1)))
        result = self.run_ok(as_of="2026-11-01")
        self.assertIn({"to": ["alice@example.com"], "alerts": [str(alert.pk)]}, result["messages"])
        self.assertIn("Act by 2026-12-01 (in 30 day(s))", self.outbox()["alice@example.com"].body)
        mail.outbox.clear()
        # 2026-11-02: still soon, nothing new.
        alerts.sync_renewal_alerts(datetime.date(2026, 11, 2))
        self.assertNotIn("alice@example.com", [m["to"][0] for m in self.run_ok(as_of="2026-11-02")["messages"]])
        # 2026-11-20: 11 days left -> urgent: mailed again, saying it was soon.
        alerts.sync_renewal_alerts(datetime.date(2026, 11, 20))
        result = self.run_ok(as_of="2026-11-20")
        self.assertIn({"to": ["alice@example.com"], "alerts": [str(alert.pk)]}, result["messages"])
        self.assertIn("Act by 2026-12-01 (in 11 day(s)); was soon", self.outbox()["alice@example.com"].body)


class DevelopmentMailTest(SimpleTestCase):
    """development/nautobot_config.py: SMTP when NAUTOBOT_EMAIL_HOST is set, else files under .local/mail/."""

    ROOT = Path(__file__).resolve().parent.parent

    def load_config(self, **env):
        """EMAIL_BACKEND, EMAIL_FILE_PATH, EMAIL_HOST and EMAIL_PORT as the config computes them in a fresh process."""
        environ = {k: v for k, v in os.environ.items() if not k.startswith("NAUTOBOT_EMAIL_")}
        environ.update(env)
        code = (
            "import runpy; ns = runpy.run_path('development/nautobot_config.py'); "
            "print(ns['EMAIL_BACKEND'], ns.get('EMAIL_FILE_PATH'), ns['EMAIL_HOST'], ns['EMAIL_PORT'])"
        )
        output = subprocess.run(  # noqa: S603 (a fixed command)
            [sys.executable, "-c", code], cwd=self.ROOT, env=environ, capture_output=True, text=True, check=True
        )
        return output.stdout.split()

    def test_without_host_files_under_local_mail(self):
        backend, path, _host, _port = self.load_config()
        self.assertEqual(backend, "django.core.mail.backends.filebased.EmailBackend")
        self.assertEqual(path, str(self.ROOT / ".local" / "mail"))
        self.assertEqual(Path(path), local_services.MAIL_DIR)

    def test_with_host_smtp_from_nautobot_variables(self):
        backend, path, host, port = self.load_config(NAUTOBOT_EMAIL_HOST="smtp.example.com", NAUTOBOT_EMAIL_PORT="587")
        self.assertEqual(
            (backend, path, host, port),
            ("django.core.mail.backends.smtp.EmailBackend", "None", "smtp.example.com", "587"),
        )

    def test_demo_says_where_mail_goes(self):
        self.assertEqual(
            local_services.mail_destination({}),
            "files in .local/mail/, not sent (set NAUTOBOT_EMAIL_HOST to send through SMTP)",
        )
        self.assertEqual(
            local_services.mail_destination({"NAUTOBOT_EMAIL_FILE_PATH": "/srv/mail"}),
            "files in /srv/mail/, not sent (set NAUTOBOT_EMAIL_HOST to send through SMTP)",
        )
        self.assertEqual(
            local_services.mail_destination({"NAUTOBOT_EMAIL_HOST": "smtp.example.com", "NAUTOBOT_EMAIL_PORT": "587"}),
            "SMTP server smtp.example.com:587 (NAUTOBOT_EMAIL_* variables)",
        )
        self.assertEqual(
            local_services.mail_destination({"NAUTOBOT_EMAIL_HOST": "mail"}),
            "SMTP server mail:25 (NAUTOBOT_EMAIL_* variables)",
        )


class NotificationJobAPITest(APITestCase):
    """Through Nautobot's REST Jobs API: omitted dry_run means false (a real run); a bad date is a 400, nothing run."""

    def setUp(self):
        super().setUp()
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.add_permissions("extras.run_job", "extras.view_job", "nautobot_contracts.view_contractalert")
        _, job_model = get_job_class_and_model(MODULE, JOB)
        job_model.enabled = True
        job_model.save()
        self.url = reverse("extras-api:job-run", kwargs={"pk": job_model.pk})
        contract = factories.ContractFactory(name="Fallback Contract")
        self.alert = make_alert(contract, SOON, datetime.date(2026, 12, 20))

    def run_through_api(self, data):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, {"data": data}, format="json", **self.header)

    @mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
    def test_dry_run_then_real_run(self, _):
        with app_config(notification_fallback_emails=["finance@example.com"]):
            response = self.run_through_api({"as_of": "2026-12-02", "dry_run": True})
            self.assertHttpStatus(response, 201)
            job_result = JobResult.objects.get(pk=response.data["job_result"]["id"])
            self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
            expected = [{"to": ["finance@example.com"], "alerts": [str(self.alert.pk)]}]
            self.assertEqual(job_result.result, {"as_of": "2026-12-02", "dry_run": True, "messages": expected})
            self.assertEqual(mail.outbox, [])
            response = self.run_through_api({"as_of": "2026-12-02"})
            job_result = JobResult.objects.get(pk=response.data["job_result"]["id"])
            self.assertEqual(job_result.result, {"as_of": "2026-12-02", "dry_run": False, "messages": expected})
        self.assertEqual([message.to for message in mail.outbox], [["finance@example.com"]])

    @mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
    def test_bad_date_refused(self, _):
        before = JobResult.objects.count()
        response = self.client.post(self.url, {"data": {"as_of": "2026-02-30"}}, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("as_of", str(response.data))
        self.assertEqual(JobResult.objects.count(), before)
