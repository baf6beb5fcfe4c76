"""Contracts: one agreement with one provider."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, StatusField, extras_features

from nautobot_contracts.app_settings import default_renewal_term_months
from nautobot_contracts.choices import BillingPeriodChoices, ContractTypeChoices, EntitlementUnitChoices
from nautobot_contracts.currencies import CurrencyField
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES
from nautobot_contracts.models.money import (
    NOTICE_DAYS_MAX,
    QUANTITY_MAX,
    QUANTITY_MIN,
    RENEWAL_TERM_MONTHS_MAX,
    RENEWAL_TERM_MONTHS_MIN,
    bounded_date_field,
    currency_format_constraint,
    date_range_constraint,
    money_field,
    non_negative_constraint,
    range_constraint,
)
from nautobot_contracts.models.providers import UnicodeSafeNaturalSlugMixin

# Bounds of a contract's own renewal-alert lead time (days before the notice deadline).
ALERT_LEAD_DAYS_MIN = 1
ALERT_LEAD_DAYS_MAX = 3650

# How many offending related objects a validation message names before "and more".
NAMED_IN_ERRORS = 3


@extras_features(*PRIMARY_MODEL_FEATURES, "statuses")
class Contract(UnicodeSafeNaturalSlugMixin, PrimaryModel):
    """An agreement with a provider: term, costs, billing period, currency and renewal terms."""

    name = models.CharField(max_length=CHARFIELD_MAX_LENGTH)
    contract_number = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    provider = models.ForeignKey(
        to="nautobot_contracts.ServiceProvider", on_delete=models.PROTECT, related_name="contracts"
    )
    tenant = models.ForeignKey(
        to="tenancy.Tenant", on_delete=models.PROTECT, related_name="contracts", blank=True, null=True
    )
    status = StatusField(blank=False, null=False)
    contract_type = models.CharField(
        max_length=50, choices=ContractTypeChoices, default=ContractTypeChoices.TYPE_SUPPORT
    )
    start_date = bounded_date_field()
    end_date = bounded_date_field()
    recurring_cost = money_field(default=0, help_text="Amount billed each billing period")
    billing_period = models.CharField(
        max_length=20, choices=BillingPeriodChoices, default=BillingPeriodChoices.PERIOD_MONTHLY
    )
    one_time_cost = money_field(default=0, help_text="Non-recurring amount (setup, purchase)")
    currency = CurrencyField()
    auto_renew = models.BooleanField(default=False, help_text="Rolls into a new renewal term when the term ends")
    notice_period_days = models.PositiveIntegerField(
        blank=True,
        null=True,
        validators=[MaxValueValidator(NOTICE_DAYS_MAX)],
        help_text=f"Days before the term end by which notice must be given (0 to {NOTICE_DAYS_MAX})",
    )
    renewal_term_months = models.PositiveSmallIntegerField(
        default=default_renewal_term_months,
        validators=[MinValueValidator(RENEWAL_TERM_MONTHS_MIN), MaxValueValidator(RENEWAL_TERM_MONTHS_MAX)],
        help_text=f"Length of each renewal term, in months ({RENEWAL_TERM_MONTHS_MIN} to {RENEWAL_TERM_MONTHS_MAX})",
    )
    alert_lead_days = models.PositiveIntegerField(
        blank=True,
        null=True,
        validators=[MinValueValidator(ALERT_LEAD_DAYS_MIN), MaxValueValidator(ALERT_LEAD_DAYS_MAX)],
        help_text=(
            f"Days before the notice deadline a renewal alert is raised ({ALERT_LEAD_DAYS_MIN} to "
            f"{ALERT_LEAD_DAYS_MAX}); empty: the renewal_alert_days setting"
        ),
    )
    cost_center = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    quantity = models.PositiveIntegerField(
        blank=True,
        null=True,
        validators=[MinValueValidator(QUANTITY_MIN), MaxValueValidator(QUANTITY_MAX)],
        help_text="Entitlement: how many units the contract buys (with a unit); empty: no entitlement",
    )
    unit = models.CharField(
        max_length=20,
        choices=EntitlementUnitChoices,
        blank=True,
        help_text="What the entitlement quantity counts; devices are counted by the coverage rule",
    )
    purchase_order = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    comments = models.TextField(blank=True)

    natural_key_field_names = ["provider", "name"]
    clone_fields = [
        "provider", "tenant", "status", "contract_type", "billing_period", "currency", "auto_renew",
        "notice_period_days", "renewal_term_months", "cost_center",
    ]  # fmt: skip

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="nautobot_contracts_contract_provider_name"),
            models.UniqueConstraint(
                fields=["provider", "contract_number"],
                condition=~Q(contract_number=""),
                name="nautobot_contracts_contract_provider_number",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="nautobot_contracts_contract_dates_in_order"
            ),
            non_negative_constraint("contract", "recurring_cost"),
            non_negative_constraint("contract", "one_time_cost"),
            currency_format_constraint("contract"),
            date_range_constraint("contract", "start_date"),
            date_range_constraint("contract", "end_date"),
            range_constraint("contract", "notice_period_days", 0, NOTICE_DAYS_MAX, nullable=True),
            range_constraint("contract", "alert_lead_days", ALERT_LEAD_DAYS_MIN, ALERT_LEAD_DAYS_MAX, nullable=True),
            range_constraint("contract", "renewal_term_months", RENEWAL_TERM_MONTHS_MIN, RENEWAL_TERM_MONTHS_MAX),
            range_constraint("contract", "quantity", QUANTITY_MIN, QUANTITY_MAX, nullable=True),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True, unit="") | (Q(quantity__isnull=False) & ~Q(unit="")),
                name="nautobot_contracts_contract_entitlement_complete",
            ),
        ]
        indexes = [models.Index(fields=["end_date"]), models.Index(fields=["currency", "start_date"])]

    def __str__(self):
        return self.name

    def clean(self):
        """Check the invariants that span fields, and those shared with its invoices and assignments."""
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date must be on or after the start date."})
        if self.quantity is not None and not self.unit:
            raise ValidationError({"unit": "An entitlement quantity needs a unit (devices, seats, licences...)."})
        if self.unit and self.quantity is None:
            raise ValidationError({"quantity": "An entitlement unit needs a quantity."})
        if self.contract_number and self.provider_id:
            clash = Contract.objects.filter(provider_id=self.provider_id, contract_number=self.contract_number)
            if clash.exclude(pk=self.pk).exists():
                raise ValidationError({"contract_number": "This provider already has a contract with this number."})
        if self.present_in_database:
            # The invoice and assignment sides check these rules too; a change made here must not break them.
            errors = {**self._invoice_currency_errors(), **self._assignment_window_errors()}
            if errors:
                raise ValidationError(errors)

    def _invoice_currency_errors(self):
        """One query: invoices whose currency is not (any more) the contract's."""
        if not self.currency:
            return {}
        numbers = list(
            self.invoices.exclude(currency=self.currency)
            .order_by("invoice_number")
            .values_list("invoice_number", flat=True)[: NAMED_IN_ERRORS + 1]
        )
        if not numbers:
            return {}
        return {
            "currency": f"The currency cannot change to {self.currency}: invoices of this contract are in another "
            f"currency ({_named(numbers)}). An invoice's currency must equal its contract's."
        }

    def _assignment_window_errors(self):
        """One query: assignments whose coverage window would fall outside the contract's term."""
        if not (self.start_date and self.end_date):
            return {}
        start, end = self.start_date, self.end_date
        outside = (
            Q(coverage_start__lt=start)
            | Q(coverage_end__lt=start)
            | Q(coverage_start__gt=end)
            | Q(coverage_end__gt=end)
        )
        # The check is one query; only when it finds something are the (at most a few) targets fetched for names.
        rows = list(
            self.assignments.filter(outside)
            .select_related("assigned_object_type")
            .prefetch_related("assigned_object")
            .order_by("coverage_start", "coverage_end", "pk")[: NAMED_IN_ERRORS + 1]
        )
        if not rows:
            return {}
        labels = [
            f"{row.assigned_object or row.assigned_object_id} (coverage {row.coverage_start or 'from the start'} to "
            f"{row.coverage_end or 'the end'})"
            for row in rows
        ]
        message = (
            f"Assignments have coverage windows outside the term {start} to {end}: {_named(labels)}. "
            "Change or clear their coverage windows first."
        )
        windows = [(row.coverage_start, row.coverage_end) for row in rows]
        errors = {}
        if any(day < start for window in windows for day in window if day):
            errors["start_date"] = message
        if any(day > end for window in windows for day in window if day):
            errors["end_date"] = message
        return errors


def _named(labels):
    """The first NAMED_IN_ERRORS labels, then "and more" when there were more."""
    shown = ", ".join(str(label) for label in labels[:NAMED_IN_ERRORS])
    return f"{shown} and more" if len(labels) > NAMED_IN_ERRORS else shown
