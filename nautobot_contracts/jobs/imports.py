"""Import contracts CSV: the app's CSV import (csv_import.import_csv) as a background Job, for large files."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from nautobot.apps.api import get_serializer_for_model
from nautobot.apps.jobs import FileVar, ObjectVar, TextVar

from nautobot_contracts.csv_import import CSVImportError, import_csv
from nautobot_contracts.jobs.base import GROUPING, ContractsJob

name = GROUPING  # pylint: disable=invalid-name  # Nautobot reads the Job grouping from the module's `name`

# The app's models a CSV file can create (cost snapshots are written by their Job only).
IMPORTABLE_MODELS = ("serviceprovider", "contract", "invoice", "contractassignment", "exchangerate", "budget")
# Errors logged one per line; beyond this the rest are summed up (a 5,000-row file of bad dates is one mistake).
MAX_LOGGED_ERRORS = 1000


class ImportContractsCSV(ContractsJob):
    """Create objects from a CSV file, all or nothing, reporting every bad line by its line number in the file.

    No `as_of` input: an import does not depend on a date.
    """

    content_type = ObjectVar(
        model=ContentType,
        label="Object type",
        query_params={"app_label": "nautobot_contracts", "model": IMPORTABLE_MODELS},
    )
    # Only the importable types are valid choices (query_params only filter the UI's drop-down).
    content_type.field_attrs["queryset"] = ContentType.objects.filter(
        app_label="nautobot_contracts", model__in=IMPORTABLE_MODELS
    )
    csv_data = TextVar(label="CSV data", required=False)
    csv_file = FileVar(label="CSV file", required=False)

    class Meta(ContractsJob.Meta):
        name = "Import contracts CSV"
        description = "Import service providers, contracts, invoices, assignments or exchange rates from CSV."
        soft_time_limit = 1800
        time_limit = 2000

    @classmethod
    def validate_data(cls, data, files=None):
        """As every Job, and one of CSV data or a CSV file must be given."""
        cleaned = super().validate_data(data, files=files)
        if not cleaned.get("csv_data") and not cleaned.get("csv_file"):
            raise ValidationError({"csv_data": ["Give the CSV data or a CSV file."]})
        return cleaned

    def run(self, *, content_type, csv_data=None, csv_file=None):  # pylint: disable=arguments-differ
        """Import, logging progress; on any bad line log every error and fail with nothing created."""
        model = content_type.model_class()
        if (
            model is None
            or content_type.app_label != "nautobot_contracts"
            or content_type.model not in IMPORTABLE_MODELS
        ):
            raise ValueError(f"{content_type} objects cannot be imported with this Job.")
        if not self.user.has_perm(f"nautobot_contracts.add_{content_type.model}"):
            raise PermissionDenied(f"You do not have permission to add {model._meta.verbose_name_plural}.")
        data = csv_file.read() if csv_file else (csv_data or "")

        def progress(done, total):
            self.logger.info("Checked %d of %d rows.", done, total)

        try:
            created = import_csv(
                data,
                get_serializer_for_model(model),
                model.objects.restrict(self.user, "add"),
                progress=progress,
                user=self.user,
            )
        except CSVImportError as error:
            for row_error in error.errors[:MAX_LOGGED_ERRORS]:
                self.logger.error("%s", row_error)
            if len(error.errors) > MAX_LOGGED_ERRORS:
                self.logger.error("... and %d more errors.", len(error.errors) - MAX_LOGGED_ERRORS)
            raise ValueError(
                f"CSV import failed with {len(error.errors)} error(s); nothing was imported (see the log)."
            ) from error
        self.logger.info("Imported %d %s.", len(created), model._meta.verbose_name_plural)
        return {"imported": len(created)}


jobs = (ImportContractsCSV,)
