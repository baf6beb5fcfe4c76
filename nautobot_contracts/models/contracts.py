"""Contracts: one agreement with one provider."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, StatusField, extras_features

from nautobot_contracts.app_settings import default_renewal_term_months
from nautobot_contracts.choices import BillingPeriodChoices, ContractTypeChoices
from nautobot_contracts.currencies import CurrencyField
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES
from nautobot_contracts.models.money import currency_format_constraint, money_field, non_negative_constraint


@extras_features(*PRIMARY_MODEL_FEATURES, "statuses")
class Contract(PrimaryModel):
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
    start_date = models.DateField()
    end_date = models.DateField()
    recurring_cost = money_field(default=0, help_text="Amount billed each billing period")
    billing_period = models.CharField(
        max_length=20, choices=BillingPeriodChoices, default=BillingPeriodChoices.PERIOD_MONTHLY
    )
    one_time_cost = money_field(default=0, help_text="Non-recurring amount (setup, purchase)")
    currency = CurrencyField()
    auto_renew = models.BooleanField(default=False, help_text="Rolls into a new renewal term when the term ends")
    notice_period_days = models.PositiveIntegerField(
        blank=True, null=True, help_text="Days before the term end by which notice must be given"
    )
    renewal_term_months = models.PositiveSmallIntegerField(
        default=default_renewal_term_months,
        validators=[MinValueValidator(1)],
        help_text="Length of each renewal term, in months",
    )
    cost_center = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
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
        ]
        indexes = [models.Index(fields=["end_date"]), models.Index(fields=["currency", "start_date"])]

    def __str__(self):
        return self.name

    def clean(self):
        """Check the invariants that span fields."""
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date must be on or after the start date."})
        if self.contract_number and self.provider_id:
            clash = Contract.objects.filter(provider_id=self.provider_id, contract_number=self.contract_number)
            if clash.exclude(pk=self.pk).exists():
                raise ValidationError({"contract_number": "This provider already has a contract with this number."})
