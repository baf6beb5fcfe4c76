"""Job: Check overdue invoices."""

from nautobot.apps.choices import LogLevelChoices

from nautobot_contracts.jobs.base import GROUPING, ContractsJob, as_of_var, log_alert_counts, parse_date
from nautobot_contracts.services import alerts

name = GROUPING  # pylint: disable=invalid-name  # the Job grouping shown in Nautobot


class CheckOverdueInvoices(ContractsJob):
    """Raise, escalate and resolve the invoice_overdue alerts of the invoices the running user may view."""

    as_of = as_of_var(description="Check the invoices as on this date (YYYY-MM-DD); empty means today")

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Check overdue invoices"
        description = (
            "Raises an alert per Open invoice past its due date (soon up to 30 days overdue, urgent beyond) and "
            "resolves the alerts of invoices paid or cancelled since."
        )

    def run(self, as_of=None):  # pylint: disable=arguments-differ
        """Bring the overdue-invoice alerts up to date for `as_of`."""
        as_of = parse_date(as_of)
        written = alerts.sync_overdue_alerts(as_of, user=self.user)
        self.log_lines(
            (
                LogLevelChoices.LOG_WARNING if alert.severity == alerts.URGENT else LogLevelChoices.LOG_INFO,
                f"{alert.get_severity_display().upper()}: {alert.message}",
                alert,
            )
            for alert in written.created + written.risen
        )
        log_alert_counts(self, "overdue invoice", written)
        return {"as_of": as_of.isoformat(), "alerts": written.counts()}


jobs = (CheckOverdueInvoices,)
