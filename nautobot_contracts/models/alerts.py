"""Contract alerts: stored records that something needs a person (DOMAIN.md "Alerts")."""

import contextlib
import contextvars

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from nautobot_contracts.choices import AlertKindChoices, AlertSeverityChoices, AlertStateChoices
from nautobot_contracts.compat import change_context_state
from nautobot_contracts.currencies import CurrencyField

CREATE_REFUSED = "Contract alerts are raised only by the app's Jobs; people change only their state."

# Set only by services.alerts while it writes; a user-facing surface that creates an alert otherwise is refused.
_writer = contextvars.ContextVar("contract_alert_writer", default=False)


@contextlib.contextmanager
def alert_writer():
    """Let the alert service create alerts inside this block (no other caller should use it)."""
    token = _writer.set(True)
    try:
        yield
    finally:
        _writer.reset(token)


@extras_features(
    "custom_fields", "custom_links", "custom_validators", "export_templates", "graphql", "relationships", "webhooks"
)
class ContractAlert(PrimaryModel):
    """One alert per (kind, subject, occasion), raised and resolved by the Jobs; people acknowledge or snooze it.

    Subject: the contract (renewal_notice), the (currency, metric) pair (cost_anomaly) or the invoice
    (invoice_overdue). Occasion: the term end, the later snapshot's date or the due date.
    """

    kind = models.CharField(max_length=30, choices=AlertKindChoices)
    severity = models.CharField(max_length=20, choices=AlertSeverityChoices)
    state = models.CharField(max_length=20, choices=AlertStateChoices, default=AlertStateChoices.STATE_OPEN)
    contract = models.ForeignKey(
        to="nautobot_contracts.Contract", on_delete=models.SET_NULL, related_name="alerts", blank=True, null=True
    )
    invoice = models.ForeignKey(
        to="nautobot_contracts.Invoice", on_delete=models.SET_NULL, related_name="alerts", blank=True, null=True
    )
    currency = CurrencyField(blank=True, help_text="Currency of a cost anomaly")
    metric = models.CharField(max_length=50, blank=True, help_text="Snapshot metric of a cost anomaly")
    occasion = models.DateField(help_text="The term end, snapshot date or due date the alert is about")
    due_date = models.DateField(blank=True, null=True, help_text="The date by which to act")
    message = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    first_seen = models.DateField(help_text="As-of date of the first run that raised the alert")
    last_seen = models.DateField(help_text="As-of date of the latest run that found the condition")
    acknowledged_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+", blank=True, null=True
    )
    acknowledged_at = models.DateTimeField(blank=True, null=True)
    ack_comment = models.TextField(blank=True, verbose_name="Acknowledgement comment")
    snoozed_until = models.DateField(blank=True, null=True, help_text="Not listed as needing action before this date")
    resolved_at = models.DateTimeField(blank=True, null=True)
    notified_severity = models.CharField(max_length=20, choices=AlertSeverityChoices, blank=True)
    notified_at = models.DateTimeField(blank=True, null=True)

    natural_key_field_names = ["id"]  # no natural subject across kinds

    class Meta:
        ordering = ["due_date", "kind", "occasion"]
        verbose_name = "contract alert"
        constraints = [
            # One alert per (kind, subject, occasion); each kind has its own subject, hence one constraint per kind.
            models.UniqueConstraint(
                fields=["contract", "occasion"],
                condition=Q(kind=AlertKindChoices.KIND_RENEWAL_NOTICE),
                name="nautobot_contracts_contractalert_renewal_notice",
            ),
            models.UniqueConstraint(
                fields=["currency", "metric", "occasion"],
                condition=Q(kind=AlertKindChoices.KIND_COST_ANOMALY),
                name="nautobot_contracts_contractalert_cost_anomaly",
            ),
            models.UniqueConstraint(
                fields=["invoice", "occasion"],
                condition=Q(kind=AlertKindChoices.KIND_INVOICE_OVERDUE),
                name="nautobot_contracts_contractalert_invoice_overdue",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_date"])]

    def __str__(self):
        subject = self.invoice or self.contract or " ".join(filter(None, (self.currency, self.metric)))
        return f"{self.get_kind_display()}: {subject} ({self.occasion})"

    def get_severity_color(self):
        """Bootstrap class of the severity badge."""
        return AlertSeverityChoices.CSS_CLASSES.get(self.severity, "secondary")

    def get_state_color(self):
        """Bootstrap class of the state badge."""
        return AlertStateChoices.CSS_CLASSES.get(self.state, "secondary")

    @classmethod
    def from_db(cls, db, field_names, values):
        """Remember the state and snooze as loaded, so clean() and save() see what a person changed."""
        instance = super().from_db(db, field_names, values)
        instance._loaded = {name: getattr(instance, name, None) for name in ("state", "snoozed_until")}
        return instance

    def _before(self):
        return getattr(self, "_loaded", None) or {"state": AlertStateChoices.STATE_OPEN, "snoozed_until": None}

    def clean(self):
        """A person's change follows services.alerts.person_change_errors (forms, bulk edit and REST call this)."""
        from nautobot_contracts import clock  # pylint: disable=import-outside-toplevel
        from nautobot_contracts.services.alerts import person_change_errors  # pylint: disable=import-outside-toplevel

        super().clean()
        before = self._before()
        errors = person_change_errors(
            before["state"], before["snoozed_until"], self.state, self.snoozed_until, clock.today()
        )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        """Record who acknowledged and when; refuse creating an alert from a request or Job outside the service."""
        context = change_context_state.get()
        if self._state.adding and context is not None and not _writer.get():
            raise ValidationError(CREATE_REFUSED)
        before = self._before()["state"]
        if self.state != before and not self._state.adding:
            if self.state == AlertStateChoices.STATE_ACKNOWLEDGED:
                self.acknowledged_at = timezone.now()
                self.acknowledged_by = context.get_user() if context is not None else None
            elif self.state == AlertStateChoices.STATE_OPEN:
                self.acknowledged_at, self.acknowledged_by = None, None
        super().save(*args, **kwargs)
        self._loaded = {"state": self.state, "snoozed_until": self.snoozed_until}
