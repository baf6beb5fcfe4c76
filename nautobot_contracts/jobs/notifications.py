"""Job: Send contract notifications (e-mail digests of the alerts their renewal owners have not been told about)."""

import smtplib

from django.conf import settings
from django.db import transaction
from nautobot.apps.choices import LogLevelChoices
from nautobot.apps.jobs import BooleanVar

from nautobot_contracts.jobs.base import GROUPING, ContractsJob, as_of_var, parse_date
from nautobot_contracts.services import notifications

name = GROUPING  # pylint: disable=invalid-name  # the Job grouping shown in Nautobot


class MailDeliveryError(RuntimeError):
    """The mail server refused a message or could not be reached: the run fails and marks nothing as notified."""


def mail_server():
    """Where the configured backend sends, for error messages: host:port for SMTP, else the backend's path."""
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        return f"SMTP server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    return f"mail backend {settings.EMAIL_BACKEND}"


class SendContractNotifications(ContractsJob):
    """E-mail each renewal owner one digest of their open, unsnoozed alerts that are new or rose in severity."""

    as_of = as_of_var(description="Notify as on this date (snoozes end on it; YYYY-MM-DD); empty means today")
    dry_run = BooleanVar(
        default=False, label="Dry run", description="List the digests that would be sent; send and record nothing"
    )

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Send contract notifications"
        description = (
            "E-mails each contract's renewal owners (Contacts and Teams in the role Renewal owner) one digest of the "
            "open, unsnoozed alerts that are new or more severe since they were last told; alerts without an owner "
            "go to the notification_fallback_emails setting. An alert is never mailed twice at the same severity."
        )

    def run(self, as_of=None, dry_run=False):  # pylint: disable=arguments-differ
        """Plan the digests; unless dry_run, send them all and only then mark their alerts as notified."""
        as_of = parse_date(as_of)
        if dry_run:
            plan = notifications.plan_notifications(as_of, user=self.user)
        else:
            # One transaction: the alerts are locked while they are mailed (an overlapping run skips them), and the
            # marks are written only after every message was accepted. A failure rolls the marks back: all or none.
            with transaction.atomic():
                plan = notifications.plan_notifications(as_of, user=self.user, lock=True)
                try:
                    notifications.send_digests(plan)
                except (smtplib.SMTPException, OSError) as exc:
                    raise MailDeliveryError(
                        f"Sending the contract notifications failed: the {mail_server()} refused or could not be "
                        f"reached ({exc.__class__.__name__}: {exc}). No alert was marked as notified; the next run "
                        "sends every digest again."
                    ) from exc
                notifications.mark_notified(plan)
        self._log(plan, dry_run)
        return {
            "as_of": as_of.isoformat(),
            "dry_run": bool(dry_run),
            "messages": [digest.as_result() for digest in plan.digests],
        }

    def _log(self, plan, dry_run):
        """One line per digest, a warning for alerts nobody could be told about, and a summary."""
        verb = "Would send" if dry_run else "Sent"
        lines = [
            (LogLevelChoices.LOG_INFO, f"{verb} {len(d.alerts)} alert(s) to {', '.join(d.to)}.", None)
            for d in plan.digests
        ]
        if plan.unrouted:
            lines.append(
                (
                    LogLevelChoices.LOG_WARNING,
                    f"{len(plan.unrouted)} alert(s) have no renewal owner with an e-mail address and "
                    "notification_fallback_emails is empty: not mailed, still due.",
                    None,
                )
            )
        if plan.withheld:
            lines.append(
                (
                    LogLevelChoices.LOG_WARNING,
                    f"{len(plan.withheld)} alert(s) were withheld: no recipient's Nautobot user may view them.",
                    None,
                )
            )
        self.log_lines(lines)
        self.logger.info(
            "%s %d digest(s) of %d alert(s) as of %s%s.",
            verb,
            len(plan.digests),
            len(plan.notified_alerts),
            plan.as_of.isoformat(),
            " (dry run: nothing sent or recorded)" if dry_run else "",
        )


jobs = (SendContractNotifications,)
