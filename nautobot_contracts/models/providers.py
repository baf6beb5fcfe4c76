"""Service providers: the vendors and counterparties contracts are held with."""

from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES


@extras_features(*PRIMARY_MODEL_FEATURES)
class ServiceProvider(PrimaryModel):
    """A vendor or counterparty: carrier, OEM, reseller, SaaS vendor, colocation provider."""

    name = models.CharField(max_length=CHARFIELD_MAX_LENGTH, unique=True)
    account_number = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    portal_url = models.URLField(blank=True, verbose_name="Portal URL")
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=50, blank=True)
    circuit_provider = models.ForeignKey(
        to="circuits.Provider",
        on_delete=models.SET_NULL,
        related_name="contract_service_providers",
        blank=True,
        null=True,
        help_text="The matching circuit provider in Nautobot, if any",
    )
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    comments = models.TextField(blank=True)

    natural_key_field_names = ["name"]
    clone_fields = ["account_number", "portal_url", "support_email", "support_phone"]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
