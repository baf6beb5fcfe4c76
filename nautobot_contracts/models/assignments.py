"""Assignments: a contract attached to the Nautobot object it covers or pays for."""

from decimal import Decimal

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from nautobot.apps.models import PrimaryModel, extras_features

from nautobot_contracts.app_settings import assignable_content_types_q, assignable_model_labels
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES
from nautobot_contracts.models.money import (
    ALLOCATION_WEIGHT_DECIMAL_PLACES,
    ALLOCATION_WEIGHT_MAX,
    ALLOCATION_WEIGHT_MAX_DIGITS,
    ALLOCATION_WEIGHT_MIN,
    QUANTITY_MAX,
    QUANTITY_MIN,
    bounded_date_field,
    date_range_constraint,
    range_constraint,
)
from nautobot_contracts.models.providers import UnicodeSafeNaturalSlugMixin


@extras_features(*PRIMARY_MODEL_FEATURES)
class ContractAssignment(UnicodeSafeNaturalSlugMixin, PrimaryModel):
    """One contract attached to one Device, Rack, Location, Circuit, VM, Cluster, Tenant or Tenant group."""

    contract = models.ForeignKey(to="nautobot_contracts.Contract", on_delete=models.CASCADE, related_name="assignments")
    assigned_object_type = models.ForeignKey(
        to=ContentType,
        on_delete=models.PROTECT,
        limit_choices_to=assignable_content_types_q,
        related_name="+",
    )
    assigned_object_id = models.UUIDField()
    assigned_object = GenericForeignKey(ct_field="assigned_object_type", fk_field="assigned_object_id")
    coverage_start = bounded_date_field(blank=True, null=True, help_text="Coverage starts later than the contract")
    coverage_end = bounded_date_field(blank=True, null=True, help_text="Coverage ends earlier than the contract")
    allocation_weight = models.DecimalField(
        max_digits=ALLOCATION_WEIGHT_MAX_DIGITS,
        decimal_places=ALLOCATION_WEIGHT_DECIMAL_PLACES,
        default=Decimal(1),
        validators=[MinValueValidator(ALLOCATION_WEIGHT_MIN), MaxValueValidator(ALLOCATION_WEIGHT_MAX)],
        help_text=(
            "Share of the contract's cost this assignment carries, relative to the other assignments in force "
            f"(greater than 0, up to {ALLOCATION_WEIGHT_MAX:,}; default 1: equal shares)"
        ),
    )
    quantity = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(QUANTITY_MIN), MaxValueValidator(QUANTITY_MAX)],
        help_text="Entitlement units this assignment uses (seats, licences, ports...; default 1)",
    )
    # Named "comments", not "notes": PrimaryModel's NotesMixin already owns `notes` (Nautobot's Notes feature).
    comments = models.TextField(blank=True)

    natural_key_field_names = ["contract", "assigned_object_type", "assigned_object_id"]

    class Meta:
        ordering = ["contract", "assigned_object_type", "assigned_object_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "assigned_object_type", "assigned_object_id"],
                name="nautobot_contracts_assignment_unique_object",
            ),
            models.CheckConstraint(
                condition=Q(coverage_end__gte=F("coverage_start")),
                name="nautobot_contracts_assignment_window_in_order",
            ),
            date_range_constraint("assignment", "coverage_start", nullable=True),
            date_range_constraint("assignment", "coverage_end", nullable=True),
            range_constraint("assignment", "allocation_weight", ALLOCATION_WEIGHT_MIN, ALLOCATION_WEIGHT_MAX),
            range_constraint("assignment", "quantity", QUANTITY_MIN, QUANTITY_MAX),
        ]
        indexes = [models.Index(fields=["assigned_object_type", "assigned_object_id"])]

    def __str__(self):
        return f"{self.contract} → {self.assigned_object or self.assigned_object_id}"

    def clean(self):
        """The target type must be assignable and exist; the coverage window must lie inside the contract term."""
        super().clean()
        errors = {}
        if self.assigned_object_type_id:
            label = f"{self.assigned_object_type.app_label}.{self.assigned_object_type.model}"
            if label not in assignable_model_labels():
                errors["assigned_object_type"] = f"Contracts cannot be assigned to {label} objects."
            elif self.assigned_object_id and self.assigned_object is None:
                errors["assigned_object_id"] = f"No {self.assigned_object_type.name} has this id."
        if self.coverage_start and self.coverage_end and self.coverage_end < self.coverage_start:
            errors["coverage_end"] = "The coverage end must be on or after the coverage start."
        if self.contract_id:
            contract = self.contract
            if self.coverage_start and not contract.start_date <= self.coverage_start <= contract.end_date:
                errors["coverage_start"] = (
                    f"The coverage window must lie inside the contract term ({contract.start_date} to "
                    f"{contract.end_date})."
                )
            if self.coverage_end and not contract.start_date <= self.coverage_end <= contract.end_date:
                errors["coverage_end"] = (
                    f"The coverage window must lie inside the contract term ({contract.start_date} to "
                    f"{contract.end_date})."
                )
        if errors:
            raise ValidationError(errors)
