"""What the app's Jobs share: a date input, bounded integer inputs, defaults for omitted inputs, CSV output."""

import csv
import datetime
import io

from django import forms
from django.utils import timezone
from nautobot.apps.forms import DatePicker
from nautobot.apps.jobs import IntegerVar, Job, StringVar
from nautobot.core.utils.logging import sanitize
from nautobot.extras.choices import LogLevelChoices
from nautobot.extras.constants import (
    JOB_LOG_MAX_ABSOLUTE_URL_LENGTH,
    JOB_LOG_MAX_GROUPING_LENGTH,
    JOB_LOG_MAX_LOG_OBJECT_LENGTH,
)
from nautobot.extras.models import JobLogEntry, jobs as job_models

GROUPING = "Contracts"


def today():
    """The current date in Nautobot's time zone."""
    return timezone.localdate()


class IsoDateField(forms.DateField):
    """A date input whose cleaned value is the ISO string, so it serializes into job kwargs as is."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", DatePicker())
        super().__init__(*args, **kwargs)

    def clean(self, value):
        cleaned = super().clean(value)
        return cleaned.isoformat() if cleaned else None


class DateVar(StringVar):
    """A date (YYYY-MM-DD); a value that is not a date is a form error, so the run is refused before it starts."""

    form_field = IsoDateField


def bounded_integer_var(min_value=None, max_value=None, **kwargs):
    """An IntegerVar that enforces its bounds even when one is 0 (IntegerVar drops falsy bounds)."""
    var = IntegerVar(**kwargs)
    if min_value is not None:
        var.field_attrs["min_value"] = min_value
    if max_value is not None:
        var.field_attrs["max_value"] = max_value
    return var


def parse_date(value, default=None):
    """A job's date input (date, ISO string, or empty) as a date; empty means `default` (today if none)."""
    if value in (None, ""):
        return default or today()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def csv_text(columns, rows):
    """Rows (dicts) as CSV text with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


class ContractsJob(Job):
    """Base of the app's Jobs: inputs left out of a REST call take their declared defaults."""

    class Meta:  # pylint: disable=too-few-public-methods
        """Shared Job metadata (each Job's Meta inherits from this)."""

        has_sensitive_variables = False

    @classmethod
    def validate_data(cls, data, files=None):
        """Validate as the job form does, after filling omitted inputs with their defaults.

        Without this a REST caller leaving out a boolean input that defaults to true would get false: an HTML form
        omits unchecked boxes, so Django reads a missing boolean as false.
        """
        if isinstance(data, dict):
            defaults = {
                name: var.field_attrs["initial"]
                for name, var in cls._get_vars().items()
                if "initial" in var.field_attrs and name not in data
            }
            data = {**defaults, **data}
        return super().validate_data(data, files=files)

    def log_lines(self, lines, grouping="run"):
        """Write many (level, message, obj) log lines with one bulk insert per thousand.

        `self.logger` writes each line as its own INSERT after looking its JobResult up again: two queries a line,
        which dominates a report over thousands of contracts. Entries match what `JobResult.log()` stores
        (sanitized message, linked object, truncated fields) and keep their order through increasing timestamps.
        """
        start = timezone.now()
        entries = []
        for index, (level, message, obj) in enumerate(lines):
            if level not in LogLevelChoices.as_dict():
                raise ValueError(f"Unknown logging level: {level}")
            entries.append(
                JobLogEntry(
                    job_result=self.job_result,
                    log_level=level,
                    grouping=grouping[:JOB_LOG_MAX_GROUPING_LENGTH],
                    message=sanitize(str(message)),
                    created=start + datetime.timedelta(microseconds=index),
                    log_object=str(obj)[:JOB_LOG_MAX_LOG_OBJECT_LENGTH] if obj is not None else "",
                    absolute_url=(obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else "")[
                        :JOB_LOG_MAX_ABSOLUTE_URL_LENGTH
                    ],
                )
            )
        # Same database choice as JobResult.log(): the separate job-logs connection keeps entries outside the
        # job's transaction, so they survive a rollback.
        alias = job_models.JOB_LOGS if self.job_result.use_job_logs_db and job_models.JOB_LOGS else "default"
        JobLogEntry.objects.using(alias).bulk_create(entries, batch_size=1000)
