"""The "Send contract notifications" Job against a real SMTP server: aiosmtpd on 127.0.0.1, on a free port.

Django's SMTP backend talks to the sink exactly as it would to a mail relay, so this proves what the in-memory
backend cannot: the envelope recipients, the MIME message on the wire, a recipient refused with 550 and a server that
is gone. The Job runs in-process (eager); no Celery worker is needed.
"""

import datetime
import email
from email import policy
import socket
from unittest import mock

from aiosmtpd.controller import Controller
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from nautobot.apps.testing import TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Contact, ContactAssociation, Role

from nautobot_contracts.choices import AlertKindChoices, AlertSeverityChoices
from nautobot_contracts.models import Contract, ContractAlert
from nautobot_contracts.services import notifications
from tests import factories

AS_OF = datetime.date(2026, 12, 2)
REFUSED = "gone@example.com"


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """An aiosmtpd handler keeping every message; RCPT TO the REFUSED address answers 550."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's hook name)
        if address.lower() == REFUSED:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self):
        """{recipient: email.message.EmailMessage} of what arrived."""
        return {
            rcpt_tos[0]: email.message_from_bytes(content, policy=policy.default)
            for _, rcpt_tos, content in self.messages
        }


class SmtpNotificationTest(TestCase):
    """Two owners, one refused address; the Job sends through Django's SMTP backend."""

    @classmethod
    def setUpTestData(cls):
        role = Role.objects.get(name=notifications.RENEWAL_OWNER_ROLE)
        status = factories.status_for(ContactAssociation, "Active")
        provider = factories.ServiceProviderFactory(name="Acme Networks")
        cls.core = factories.ContractFactory(name="Acme Core Support", provider=provider)
        cls.transit = factories.ContractFactory(name="Acme Transit", provider=provider)
        contract_type = ContentType.objects.get_for_model(Contract)
        for contract, name, address in ((cls.core, "Alice", "alice@example.com"), (cls.transit, "Gone", REFUSED)):
            ContactAssociation.objects.create(
                contact=Contact.objects.create(name=name, email=address),
                associated_object_type=contract_type,
                associated_object_id=contract.pk,
                role=role,
                status=status,
            )

    def setUp(self):
        super().setUp()
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.sink = Sink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.addCleanup(self.stop_server)
        self.alert = ContractAlert.objects.create(
            kind=AlertKindChoices.KIND_RENEWAL_NOTICE,
            severity=AlertSeverityChoices.SEVERITY_URGENT,
            contract=self.core,
            occasion=self.core.end_date,
            due_date=datetime.date(2026, 12, 10),
            message="Give notice by 10 Dec",
            first_seen=AS_OF,
            last_seen=AS_OF,
        )

    def stop_server(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def run_job(self, **job_kwargs):
        _, job_model = get_job_class_and_model("nautobot_contracts.jobs.notifications", "SendContractNotifications")
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=self.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=10,
            DEFAULT_FROM_EMAIL="nautobot@example.com",
        ):
            job_result = run_job_for_testing(
                job_model, username="smtp-notifier", job_kwargs={"as_of": AS_OF.isoformat(), **job_kwargs}
            )
        job_result.refresh_from_db()
        return job_result

    def test_digest_delivered_over_smtp(self):
        job_result = self.run_job()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["messages"], [{"to": ["alice@example.com"], "alerts": [str(self.alert.pk)]}])
        self.assertEqual(len(self.sink.messages), 1)
        mail_from, rcpt_tos, _ = self.sink.messages[0]
        self.assertEqual((mail_from, rcpt_tos), ("nautobot@example.com", ["alice@example.com"]))
        message = self.sink.parsed()["alice@example.com"]
        self.assertEqual(message["Subject"], "[Nautobot contracts] 1 contract alert(s) need action (2026-12-02)")
        self.assertEqual(message["To"], "alice@example.com")
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")  # CRLF on the wire
        self.assertIn(
            "[URGENT] Renewal notice: Acme Core Support (Acme Networks)\n  Act by 2026-12-10 (in 8 day(s))\n", text
        )
        self.assertIn("<strong>Urgent</strong>", message.get_body(preferencelist=("html",)).get_content())
        self.alert.refresh_from_db()
        self.assertEqual(self.alert.notified_severity, AlertSeverityChoices.SEVERITY_URGENT)
        # The same run again sends nothing.
        self.assertEqual(self.run_job().result["messages"], [])
        self.assertEqual(len(self.sink.messages), 1)

    def test_refused_recipient_fails_the_run_and_marks_nothing(self):
        refused = ContractAlert.objects.create(
            kind=AlertKindChoices.KIND_RENEWAL_NOTICE,
            severity=AlertSeverityChoices.SEVERITY_SOON,
            contract=self.transit,
            occasion=self.transit.end_date,
            due_date=datetime.date(2026, 12, 20),
            first_seen=AS_OF,
            last_seen=AS_OF,
        )
        job_result = self.run_job()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertIn(f"the SMTP server 127.0.0.1:{self.port} refused or could not be reached", job_result.traceback)
        self.assertIn("SMTPRecipientsRefused", job_result.traceback)
        self.assertIn("No alert was marked as notified", job_result.traceback)
        # alice's digest went out before the refusal (digests are sent in address order), yet nothing is marked:
        # the next run sends both again.
        self.assertEqual([rcpt for _, rcpts, _ in self.sink.messages for rcpt in rcpts], ["alice@example.com"])
        for alert in (self.alert, refused):
            alert.refresh_from_db()
            self.assertEqual((alert.notified_severity, alert.notified_at), ("", None))

    def test_server_down_fails_the_run_and_marks_nothing(self):
        self.stop_server()
        job_result = self.run_job()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertIn("ConnectionRefusedError", job_result.traceback)
        self.alert.refresh_from_db()
        self.assertEqual(self.alert.notified_severity, "")

    def test_dry_run_opens_no_connection(self):
        job_result = self.run_job(dry_run=True)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(len(job_result.result["messages"]), 1)
        self.assertEqual(self.sink.messages, [])
