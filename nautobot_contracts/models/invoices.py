"""Invoices: bills received against a contract."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, StatusField, extras_features

from nautobot_contracts import clock
from nautobot_contracts.currencies import CurrencyField
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES
from nautobot_contracts.models.money import (
    bounded_date_field,
    currency_format_constraint,
    date_range_constraint,
    money_field,
    non_negative_constraint,
)
from nautobot_contracts.models.providers import UnicodeSafeNaturalSlugMixin

PAID_STATUS = "Paid"
DATE_FIELDS = ("invoice_date", "due_date", "period_start", "period_end", "paid_date")


@extras_features(*PRIMARY_MODEL_FEATURES, "statuses")
class Invoice(UnicodeSafeNaturalSlugMixin, PrimaryModel):
    """One bill received against a contract for a service period."""

    contract = models.ForeignKey(to="nautobot_contracts.Contract", on_delete=models.PROTECT, related_name="invoices")
    invoice_number = models.CharField(max_length=CHARFIELD_MAX_LENGTH)
    invoice_date = bounded_date_field()
    due_date = bounded_date_field(blank=True, null=True)
    period_start = bounded_date_field(blank=True, null=True, help_text="First day of the service period billed")
    period_end = bounded_date_field(blank=True, null=True, help_text="Last day of the service period billed")
    amount = money_field()
    currency = CurrencyField(blank=True, help_text="ISO 4217 code; must equal the contract's (defaults to it)")
    status = StatusField(blank=False, null=False)
    paid_date = bounded_date_field(
        blank=True, null=True, help_text="Required when the status is Paid, and only then; not after today"
    )
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    comments = models.TextField(blank=True)

    natural_key_field_names = ["contract", "invoice_number"]

    class Meta:
        ordering = ["-invoice_date", "invoice_number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "invoice_number"], name="nautobot_contracts_invoice_number"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="nautobot_contracts_invoice_period_in_order"
            ),
            models.CheckConstraint(
                condition=Q(paid_date__gte=F("invoice_date")), name="nautobot_contracts_invoice_paid_after_issued"
            ),
            non_negative_constraint("invoice", "amount"),
            currency_format_constraint("invoice"),
            *(date_range_constraint("invoice", name, nullable=name != "invoice_date") for name in DATE_FIELDS),
        ]
        indexes = [models.Index(fields=["invoice_date"])]

    def __str__(self):
        return self.invoice_number

    def default_currency(self):
        """A blank currency becomes the contract's: the one place this default is written (forms, REST, CSV)."""
        if not self.currency and self.contract_id:
            self.currency = self.contract.currency

    def clean_fields(self, exclude=None):
        """Default the currency to the contract's before field validation sees a blank."""
        self.default_currency()
        super().clean_fields(exclude=exclude)

    def clean(self):
        """Check dates in order, the paid date against the status and today, and the currency against the contract's."""
        super().clean()
        errors = {}
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = "The period end must be on or after the period start."
        if self.paid_date and self.invoice_date and self.paid_date < self.invoice_date:
            errors["paid_date"] = "The paid date cannot be before the invoice date."
        elif self.paid_date and self.paid_date > (today := clock.today()):
            errors["paid_date"] = f"The paid date cannot be in the future (today is {today})."
        is_paid = self.status_id is not None and self.status.name == PAID_STATUS
        if is_paid and not self.paid_date:
            errors["paid_date"] = "An invoice with status Paid needs a paid date."
        elif self.paid_date and self.status_id is not None and not is_paid:
            errors.setdefault(
                "paid_date",
                f"Only a Paid invoice has a paid date: set the status to Paid or clear the paid date "
                f"(the status is {self.status.name}).",
            )
        if self.contract_id and self.currency and self.currency != self.contract.currency:
            errors["currency"] = (
                f"An invoice's currency must equal its contract's ({self.contract.currency}), not {self.currency}."
            )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        """Default the currency to the contract's when it was left blank."""
        self.default_currency()
        super().save(*args, **kwargs)
