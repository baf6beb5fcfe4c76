"""Cost snapshots: write-once daily history of spend per currency."""

from django.db import models
from nautobot.apps.models import BaseModel, ChangeLoggedModel, extras_features

from nautobot_contracts.currencies import CurrencyField
from nautobot_contracts.models.money import money_field


@extras_features("graphql", "webhooks")
class CostSnapshot(ChangeLoggedModel, BaseModel):
    """Totals for one currency on one date, written only by the "Capture cost history snapshot" Job.

    No foreign key to Contract: history must survive contract deletions. Change-logged so that each write is
    recorded (who ran or backfilled the Job) and fans out through Nautobot's webhooks.
    """

    snapshot_date = models.DateField()
    currency = CurrencyField()
    monthly_burn = money_field()
    renewal_90d = money_field(verbose_name="Renewal forecast (90 days)")
    active_contract_count = models.PositiveIntegerField()
    coverage_gap_count = models.PositiveIntegerField(blank=True, null=True)
    captured_at = models.DateTimeField(auto_now=True, help_text="When the Job last wrote this row")

    natural_key_field_names = ["snapshot_date", "currency"]

    class Meta:
        ordering = ["-snapshot_date", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot_date", "currency"], name="nautobot_contracts_costsnapshot_day"),
        ]

    def __str__(self):
        return f"{self.snapshot_date} {self.currency}"
