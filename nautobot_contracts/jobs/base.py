"""What the app's Jobs share: a date input, bounded integer inputs, defaults for omitted inputs, CSV output."""

import csv
import datetime
import io

from django import forms
from django.core.exceptions import FieldError, ValidationError
from django.utils import timezone
from nautobot.apps.choices import LogLevelChoices
from nautobot.apps.forms import DatePicker
from nautobot.apps.jobs import BooleanVar, IntegerVar, Job, MultiObjectVar, ObjectVar, StringVar
from nautobot.apps.utils import sanitize

from nautobot_contracts import clock
from nautobot_contracts.compat import (
    JOB_LOG_MAX_ABSOLUTE_URL_LENGTH,
    JOB_LOG_MAX_GROUPING_LENGTH,
    JOB_LOG_MAX_LOG_OBJECT_LENGTH,
    JobLogEntry,
    job_logs_database,
)
from nautobot_contracts.gc_freeze import frozen_heap
from nautobot_contracts.links import ObjectLinks

GROUPING = "Contracts"


# Bounds of every Job input: dates stay far from datetime.date's limits even after a horizon of MAX_DAYS twice
# over, and day counts stay within ten years, so no input can make date arithmetic overflow.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2999, 12, 31)
MAX_DAYS = 3650


# The spellings of a boolean a REST caller or an HTML form may send.
BOOLEAN_WORDS = frozenset({"true", "false", "on", "off", "yes", "no", "1", "0"})


def _object_exists(queryset, value):
    """Whether `value` (a primary key, an object, or a dict of attributes) names exactly one object of `queryset`."""
    if hasattr(value, "_meta"):
        value = value.pk
    try:
        if isinstance(value, dict):
            return queryset.filter(**value).count() == 1
        return queryset.filter(pk=value).exists()
    except (ValueError, TypeError, ValidationError, FieldError):
        return False


class IsoDateField(forms.DateField):
    """A date input whose cleaned value is the ISO string, so it serializes into job kwargs as is.

    `latest` is a date, or "today" for `clock.today()` looked up at validation time (never at import); a date after
    it, or outside EARLIEST_DATE..LATEST_DATE, is a form error.
    """

    def __init__(self, *args, latest=None, **kwargs):
        kwargs.setdefault("widget", DatePicker())
        self.latest = latest
        super().__init__(*args, **kwargs)

    def clean(self, value):
        cleaned = super().clean(value)
        if not cleaned:
            return None
        if not EARLIEST_DATE <= cleaned <= LATEST_DATE:
            raise forms.ValidationError(
                f"Enter a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
            )
        latest = clock.today() if self.latest == "today" else self.latest
        if latest is not None and cleaned > latest:
            raise forms.ValidationError(f"{cleaned.isoformat()} is after today ({latest.isoformat()}): not allowed.")
        return cleaned.isoformat()


class DateVar(StringVar):
    """A date (YYYY-MM-DD); a value that is not a date is a form error, so the run is refused before it starts.

    `latest="today"` refuses dates after today (checked when the input is validated, by the UI form and the REST API).
    """

    form_field = IsoDateField

    def __init__(self, *args, latest=None, **kwargs):
        super().__init__(*args, **kwargs)
        if latest is not None:
            self.field_attrs["latest"] = latest


def as_of_var(**kwargs):
    """The `as_of` input every Job has: a date, empty meaning today (`parse_date` reads `clock.today()`)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("label", "As of")
    kwargs.setdefault("description", "YYYY-MM-DD; empty means today")
    return DateVar(**kwargs)


def bounded_integer_var(min_value, max_value, **kwargs):
    """An IntegerVar that enforces both bounds, even when one is 0 (IntegerVar drops falsy bounds).

    Both bounds are required: an unbounded integer input lets a caller overflow the date arithmetic behind it.
    """
    var = IntegerVar(**kwargs)
    var.field_attrs["min_value"] = min_value
    var.field_attrs["max_value"] = max_value
    return var


def parse_date(value, default=None):
    """A job's date input (date, ISO string, or empty) as a date; empty means `default` (today if none).

    The one place a Job reads the clock: `clock.today()` is looked up at call time, so patching
    `nautobot_contracts.clock.today` pins every Job (and every other surface) at once.
    """
    if value in (None, ""):
        return default or clock.today()
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

    def __call__(self, *args, **kwargs):
        """Run the Job with the process's long-lived objects out of the garbage collector's way (gc_freeze)."""
        with frozen_heap():
            return super().__call__(*args, **kwargs)

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
            errors = cls.input_errors(data)
            if errors:
                raise ValidationError(errors)
        return super().validate_data(data, files=files)

    @classmethod
    def input_errors(cls, data):
        """{input: message} for object and boolean inputs that Nautobot would not refuse as form errors.

        Nautobot resolves object inputs (`deserialize_data`) before the form checks them: an id of nothing, or not an
        id at all, raises DoesNotExist or a bare ValidationError, which the REST Jobs API answers with a 500. A
        boolean input reads any non-empty string ("maybe") as true. Both are refused here, naming the input.
        """
        errors = {}
        job_vars = cls._get_vars()
        for name, value in data.items():
            var = job_vars.get(name)
            if var is None or value is None or value == "":
                continue
            if isinstance(var, ObjectVar):
                values = value if isinstance(var, MultiObjectVar) and isinstance(value, (list, tuple)) else [value]
                missing = [item for item in values if not _object_exists(var.field_attrs["queryset"], item)]
                if missing:
                    errors[name] = [
                        f"Select a valid choice: {', '.join(str(item) for item in missing)} is not one of the "
                        "available choices."
                    ]
            elif isinstance(var, BooleanVar) and not isinstance(value, bool):
                if str(value).strip().lower() not in BOOLEAN_WORDS:
                    errors[name] = [f'"{value}" is not a boolean: use true or false.']
        return errors

    def log_lines(self, lines, grouping="run"):
        """Write many (level, message, obj) log lines with one bulk insert per thousand.

        `self.logger` writes each line as its own INSERT after looking its JobResult up again: two queries a line,
        which dominates a report over thousands of contracts. Entries match what `JobResult.log()` stores
        (sanitized message, linked object, truncated fields) and keep their order through increasing timestamps.
        """
        start = timezone.now()
        links = ObjectLinks()
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
                    absolute_url=links(obj)[:JOB_LOG_MAX_ABSOLUTE_URL_LENGTH],
                )
            )
        # Same database choice as JobResult.log(): the separate job-logs connection keeps entries outside the
        # job's transaction, so they survive a rollback.
        alias = job_logs_database() if self.job_result.use_job_logs_db and job_logs_database() else "default"
        JobLogEntry.objects.using(alias).bulk_create(entries, batch_size=1000)


def log_alert_counts(job, label, written):
    """One log line for what an alert-raising Job wrote (a services.alerts.AlertWrite)."""
    counts = written.counts()
    job.logger.info(
        "%s alerts: %d created, %d updated (%d escalated), %d resolved.",
        label.capitalize(),
        counts["created"],
        counts["updated"],
        len(written.risen),
        counts["resolved"],
    )
