"""The one place the app reaches past ``nautobot.apps`` into Nautobot internals.

Each name below has no door in ``nautobot.apps`` (checked against Nautobot 3.2.7); ``tests/test_compat.py`` fails
loudly if one of them moves or changes shape, so an upgrade shows where to look.
"""

# The REST filter backends the app extends to keep ?fields=/?omit= away from the FilterSet.
from nautobot.core.api.filter_backends import NautobotFilterBackend, NautobotOrderingFilter  # noqa: F401

# Generic-foreign-key representations, as core's Note and ContactAssociation serializers build them.
from nautobot.core.api.utils import (  # noqa: F401
    get_brief_representation,
    get_nested_serializer_depth,
    return_nested_serializer_data_based_on_depth,
)

# The CSV cell value Nautobot's parser reads as "no related object".
from nautobot.core.constants import CSV_NO_OBJECT  # noqa: F401

# The boolean parser Nautobot's serializers apply to ?exclude_m2m= (the app validates the value first).
from nautobot.core.settings_funcs import is_truthy  # noqa: F401

# The default of a serializer's custom_fields field: one query per use, so a CSV import reads it once per file
# (csv_import.importer.prepare_for_bulk).
from nautobot.extras.api.customfields import CustomFieldDefaultValues  # noqa: F401

# Job logs written in bulk (ContractsJob.log_lines): the model, the separate job-logs database alias core's
# JobResult.log() writes through (kept, so entries survive a rolled-back Job), and the field lengths it truncates to.
from nautobot.extras.constants import (  # noqa: F401
    CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL,
    JOB_LOG_MAX_ABSOLUTE_URL_LENGTH,
    JOB_LOG_MAX_GROUPING_LENGTH,
    JOB_LOG_MAX_LOG_OBJECT_LENGTH,
)
from nautobot.extras.models import (
    JobLogEntry,  # noqa: F401
    ObjectChange,  # noqa: F401
    jobs as _job_models,
)

# The change context Nautobot's middleware and Job runner set: who is acting (coverage filter on UI lists),
# whether a write comes from a request or Job (cost snapshots refuse those), and the request id, context and user a
# CSV import's bulk-created objects are change-logged under (csv_import.importer.log_bulk_created, with ObjectChange
# and the context-detail length core truncates to).
from nautobot.extras.signals import change_context_state  # noqa: F401


def job_logs_database():
    """The job-logs database alias, read at call time: Nautobot's test runner sets it to None when it has none."""
    return _job_models.JOB_LOGS
