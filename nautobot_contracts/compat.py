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

# Job logs written in bulk (ContractsJob.log_lines): the model, the separate job-logs database alias core's
# JobResult.log() writes through (kept, so entries survive a rolled-back Job), and the field lengths it truncates to.
from nautobot.extras.constants import (  # noqa: F401
    JOB_LOG_MAX_ABSOLUTE_URL_LENGTH,
    JOB_LOG_MAX_GROUPING_LENGTH,
    JOB_LOG_MAX_LOG_OBJECT_LENGTH,
)
from nautobot.extras.models import (
    JobLogEntry,  # noqa: F401
    jobs as _job_models,
)

# The change context Nautobot's middleware and Job runner set: who is acting (coverage filter on UI lists) and
# whether a write comes from a request or Job (cost snapshots refuse those).
from nautobot.extras.signals import change_context_state  # noqa: F401


def job_logs_database():
    """The job-logs database alias, read at call time: Nautobot's test runner sets it to None when it has none."""
    return _job_models.JOB_LOGS


# Change-log entries for rows written with bulk_create/bulk_update (contract alerts), which fire no post_save signal:
# the ObjectChange model and the field length core's ChangeContext.create_object_changes() truncates to. Entries
# carry the change context's request id, so Nautobot enqueues their webhooks when the request or Job ends, exactly
# as for rows saved one by one.
from nautobot.extras.constants import CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL  # noqa: E402
from nautobot.extras.models import ObjectChange  # noqa: E402


class _LoadedTags(list):
    """Tags already loaded for an instance, truthy even when empty.

    core's serialize_object() reads `instance._tags` when it is truthy and queries `instance.tags` otherwise, so an
    untagged instance would cost a query.
    """

    def __bool__(self):
        return True


def log_changes_in_bulk(created=(), updated=(), prefetch=(), batch_size=1000):
    """Record create/update ObjectChanges for already-written instances, as core's deferred change logging does.

    Returns the entries written (none outside a request or Job). `prefetch` names the related objects the model's
    REST serializer shows at depth 1 (loaded once for all instances, with the tags), so serializing costs no query
    per row.
    """
    from django.db.models import prefetch_related_objects  # pylint: disable=import-outside-toplevel
    from nautobot.apps.choices import ObjectChangeActionChoices  # pylint: disable=import-outside-toplevel

    context = change_context_state.get()
    rows = [(instance, ObjectChangeActionChoices.ACTION_CREATE) for instance in created]
    rows += [(instance, ObjectChangeActionChoices.ACTION_UPDATE) for instance in updated]
    if context is None or not rows:
        return []
    instances = [instance for instance, _action in rows]
    prefetch_related_objects(instances, *prefetch, "tags")
    for instance in instances:
        instance._tags = _LoadedTags(instance.tags.all())
    user = context.get_user()
    changes = []
    for instance, action in rows:
        change = instance.to_objectchange(action)
        change.user = user
        change.user_name = user.username if user is not None else ""
        change.request_id = context.change_id
        change.change_context = context.context
        change.change_context_detail = context.context_detail[:CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL]
        changes.append(change)
    return ObjectChange.objects.bulk_create(changes, batch_size=batch_size)
