"""Cost snapshots: write-once daily history of spend per currency."""

import contextlib
import contextvars

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ProtectedError
from nautobot.apps.models import BaseManager, BaseModel, ChangeLoggedModel, RestrictedQuerySet, extras_features

from nautobot_contracts.compat import change_context_state
from nautobot_contracts.currencies import CurrencyField
from nautobot_contracts.models.money import money_field

WRITE_REFUSED = "Cost snapshots are written only by the Capture cost history snapshot Job."
DELETE_REFUSED = "Cost snapshots are history: they are never deleted through the UI, the REST API or a Job."

# Set only by services.snapshots while it writes; anything else that saves or deletes a snapshot is refused.
_writer = contextvars.ContextVar("cost_snapshot_writer", default=False)


@contextlib.contextmanager
def snapshot_writer():
    """Let the cost history service save snapshots inside this block (no other caller should use it)."""
    token = _writer.set(True)
    try:
        yield
    finally:
        _writer.reset(token)


def _user_surface():
    """Whether the ORM call comes from a user-facing surface: a web/REST request or a Job.

    Nautobot wraps every request and every Job run (including the Import Objects, Bulk Edit Objects and Bulk Delete
    Objects system Jobs) in a change-logging context; a shell, a migration or a test fixture has none. Those Jobs
    pick any content type and call the model's serializer, save() and queryset delete(), and no content-type hook
    can withhold a model from a superuser, so the guard sits here, on the model, where every such path passes.
    """
    return change_context_state.get() is not None


class CostSnapshotQuerySet(RestrictedQuerySet):
    """Refuses bulk deletes and updates from user-facing surfaces (Bulk Delete Objects reports the ProtectedError)."""

    def delete(self):
        if _user_surface() and not _writer.get():
            raise ProtectedError(DELETE_REFUSED, set())
        return super().delete()

    delete.alters_data = True
    delete.queryset_only = True

    def update(self, **kwargs):
        if _user_surface() and not _writer.get():
            raise ValidationError(WRITE_REFUSED)
        return super().update(**kwargs)

    update.alters_data = True


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

    objects = BaseManager.from_queryset(CostSnapshotQuerySet)()

    natural_key_field_names = ["snapshot_date", "currency"]

    class Meta:
        ordering = ["-snapshot_date", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot_date", "currency"], name="nautobot_contracts_costsnapshot_day"),
        ]

    def __str__(self):
        return f"{self.snapshot_date} {self.currency}"

    def save(self, *args, **kwargs):
        """Save only from the history service when called from a request or a Job (see `_user_surface`)."""
        if _user_surface() and not _writer.get():
            raise ValidationError(WRITE_REFUSED)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """Refuse deletion from a request or a Job: the history is never rewritten."""
        if _user_surface() and not _writer.get():
            raise ProtectedError(DELETE_REFUSED, {self})
        return super().delete(*args, **kwargs)
