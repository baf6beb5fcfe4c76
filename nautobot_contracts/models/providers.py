"""Service providers: the vendors and counterparties contracts are held with."""

import unicodedata

from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, construct_natural_slug, extras_features

from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES


def _spell_symbols(value):
    """Spell each symbol (emoji) by its Unicode name; drop variation selectors and joiners."""
    spelled = []
    for char in str(value):
        category = unicodedata.category(char)
        if category == "So":
            spelled.append(f" {unicodedata.name(char, '')} ")
        elif category != "Cf" and not "\ufe00" <= char <= "\ufe0f":
            spelled.append(char)
    return "".join(spelled)


class UnicodeSafeNaturalSlugMixin:
    """natural_slug that survives any name (the REST API and the UI show it for every object).

    Nautobot's construct_natural_slug() names each emoji with unicodedata.name(), which raises TypeError for an emoji
    of several code points (U+1F6F0 U+FE0F "🛰️", ZWJ sequences), so one such name made every list including the
    object a 500. Such values fall back to spelling symbols code point by code point.
    """

    @property
    def natural_slug(self):
        """Nautobot's slug of the natural key, or the same built from the symbols' names when Nautobot's fails."""
        try:
            return super().natural_slug
        except TypeError:
            return construct_natural_slug([_spell_symbols(value) for value in self.natural_key()], pk=self.pk)


@extras_features(*PRIMARY_MODEL_FEATURES)
class ServiceProvider(UnicodeSafeNaturalSlugMixin, PrimaryModel):
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
