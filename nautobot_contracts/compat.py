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

# The slugify function (python-slugify) core's construct_natural_slug() applies to each natural-key value after its
# emoji pass; api.performance.slug_part calls it directly for ASCII values, which that pass leaves as they are.
from nautobot.core.models.utils import slugify  # noqa: F401

# The boolean parser Nautobot's serializers apply to ?exclude_m2m= (the app validates the value first).
from nautobot.core.settings_funcs import is_truthy  # noqa: F401

# The `custom_fields` serializer field, subclassed by api.performance to read a model's custom field keys once per
# response instead of once per object.
# The default of a serializer's custom_fields field: one query per use, so a CSV import reads it once per file
# (csv_import.importer.prepare_for_bulk).
from nautobot.extras.api.customfields import (
    CustomFieldDefaultValues,  # noqa: F401
    CustomFieldsDataField,  # noqa: F401
)

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


# Change-log entries, webhooks, job hooks and events for rows written with bulk_create/bulk_update (contract alerts,
# CSV imports), which fire no post_save signal. Core's end-of-request dispatch
# (nautobot.extras.context_managers.web_request_context) runs at least one query per ObjectChange (get_snapshots),
# which would make a Job's or import's query count grow with the objects it writes; so these entries get their own
# request id (the dispatch never sees them) and what the dispatch does for each is done here once the transaction
# commits: webhooks enqueued exactly as core's enqueue_webhooks() does (same task, same arguments), job hooks through
# nautobot.apps.jobs.enqueue_job_hooks, events through nautobot.apps.events.publish_event (same topic and payload).
# Names used from outside nautobot.apps: ObjectChange, Webhook, JobHook, the process_webhook task, the field lengths
# core's to_objectchange()/create_object_changes() truncate to.
import uuid  # noqa: E402

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from nautobot.extras.constants import (  # noqa: E402
    CHANGELOG_MAX_OBJECT_REPR,
)
from nautobot.extras.models import JobHook, Webhook  # noqa: E402


class _LoadedTags(list):
    """Tags already loaded for an instance, truthy even when empty.

    core's serialize_object() reads `instance._tags` when it is truthy and queries `instance.tags` otherwise, so an
    untagged instance would cost a query.
    """

    def __bool__(self):
        return True


def _differences(prechange, postchange):
    """The shallow diff core's get_snapshots() reports: keys whose values differ, before and after."""
    changed = [key for key in postchange if prechange.get(key) != postchange.get(key)]
    return {
        "removed": {key: prechange.get(key) for key in changed},
        "added": {key: postchange.get(key) for key in changed},
    }


def _as_stored(value, encoder):
    """`value` as json.loads(json.dumps(value, cls=DjangoJSONEncoder)) gives it back, without the text between."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_as_stored(item, encoder) for item in value]
    if isinstance(value, dict):
        return {_as_stored_key(key): _as_stored(item, encoder) for key, item in value.items()}
    return _as_stored(encoder.default(value), encoder)


def _as_stored_key(key):
    """A dict key as JSON text gives it back (json.dumps writes True as "true", 1 as "1", None as "null")."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    return str(key)


def serialize_objects(instances):
    """Core's serialize_object() (the change record's `object_data`) for many instances of one model at once.

    Same output as calling it on each (tests/test_compat.py and tests/test_change_log_bulk.py compare them), but
    without the detour core takes through JSON text: Django's "python" serializer gives the field values, and each
    value that is not JSON already is turned into what DjangoJSONEncoder writes for it (ISO dates, decimals and UUIDs
    as text). Core's detour serializes into one growing string, which for thousands of objects costs more than the
    serializing itself. Tags come from `instance._tags`, as core's reads them when set.
    """
    # pylint: disable=import-outside-toplevel  # these need the app registry, which compat's import precedes
    from django.core.serializers import serialize
    from django.core.serializers.json import DjangoJSONEncoder
    from nautobot.apps.models import is_taggable

    encoder = DjangoJSONEncoder()
    rows = serialize("python", instances)
    data = []
    for instance, row in zip(instances, rows, strict=True):
        fields = {key: _as_stored(value, encoder) for key, value in row["fields"].items()}
        if hasattr(instance, "_custom_field_data"):
            fields["custom_fields"] = fields.pop("_custom_field_data")
        if is_taggable(instance):
            tags = getattr(instance, "_tags", []) or instance.tags.only("name")
            fields["tags"] = [tag.name for tag in tags]
        data.append({key: value for key, value in fields.items() if not (isinstance(key, str) and key.startswith("_"))})
    return data


def event_brokers_registered():
    """Whether any event broker is registered: without one, core's publish_event() does nothing with a payload.

    Read from nautobot.core.events._EVENT_BROKERS (the list register_event_broker() appends to), which has no
    accessor in nautobot.apps; bulk change logging builds no event payload when it is empty.
    """
    from nautobot.core import events  # pylint: disable=import-outside-toplevel

    return bool(events._EVENT_BROKERS)  # pylint: disable=protected-access


def log_changes_in_bulk(created=(), updated=(), prefetch=(), before=None, batch_size=1000):
    """Record create/update ObjectChanges for already-written instances and enqueue their webhooks.

    `prefetch` names the related objects the model's REST serializer shows at depth 1 (loaded once for all instances,
    with the tags); `before` maps an updated instance's pk to {field: value before the write}, from which the
    webhook's `snapshots.prechange` is built. Returns the primary keys of the entries written (none outside a request
    or Job). Queries: the prefetches, one insert per `batch_size` entries, one webhook and one job hook lookup.

    The entries are serialized and written `batch_size` at a time, and each batch's records are let go once written
    unless a webhook, job hook or event broker needs them at commit: a Job writing thousands of alerts then never holds
    every record at once.
    """
    # pylint: disable=import-outside-toplevel  # these need the app registry, which compat's import precedes
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q, prefetch_related_objects
    from nautobot.apps.api import get_serializer_for_model
    from nautobot.apps.choices import ObjectChangeActionChoices
    from nautobot.apps.events import publish_event
    from nautobot.apps.jobs import enqueue_job_hooks
    from nautobot.extras.tasks import process_webhook

    from nautobot_contracts.api.performance import attach_tags

    create, update = ObjectChangeActionChoices.ACTION_CREATE, ObjectChangeActionChoices.ACTION_UPDATE
    flags = {create: "type_create", update: "type_update"}
    context = change_context_state.get()
    rows = [(instance, create) for instance in created]
    rows += [(instance, update) for instance in updated]
    if context is None or not rows:
        return []
    instances = [instance for instance, _action in rows]
    if prefetch:
        prefetch_related_objects(instances, *prefetch)
    # The tags of all instances from one query (Django's tags prefetch builds a queryset per instance).
    attach_tags(instances)
    for instance in instances:
        instance._tags = _LoadedTags(instance.tags.all())
    model = type(instances[0])
    serializer_class = get_serializer_for_model(model)
    content_type = ContentType.objects.get_for_model(model)
    model_name = content_type.model
    webhooks = list(Webhook.objects.filter(content_types=content_type, enabled=True))
    # Job hooks as core's dispatch finds them (per action), from one query instead of a lookup per change.
    hooks = list(
        JobHook.objects.filter(content_types=content_type, enabled=True).filter(
            Q(type_create=True) | Q(type_update=True)
        )
    )
    job_hooks = {action: [hook for hook in hooks if getattr(hook, flag)] for action, flag in flags.items()}
    publishing = event_brokers_registered()
    user = context.get_user()
    request_id = uuid.uuid4()
    before = before or {}
    written, webhook_calls, events, hooked = [], [], [], []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        objects = [instance for instance, _action in batch]
        # object_data_v2 as core's serialize_object_v2() builds it, but for a batch at once: the serializer's fields
        # are built once per batch instead of once per instance (the bulk of the cost of to_objectchange()).
        data_v2 = serializer_class(objects, many=True, context={"request": None, "depth": 1, "exclude_m2m": False}).data
        data_v1 = serialize_objects(objects)
        changes = []
        for (instance, action), object_data, object_data_v2 in zip(batch, data_v1, data_v2, strict=True):
            change = ObjectChange(
                changed_object=instance,
                object_repr=str(instance)[:CHANGELOG_MAX_OBJECT_REPR],
                action=action,
                object_data=object_data,
                object_data_v2=dict(object_data_v2),
            )
            change.user = user
            change.user_name = user.username if user is not None else ""
            change.request_id = request_id
            change.change_context = context.context
            change.change_context_detail = context.context_detail[:CHANGELOG_MAX_CHANGE_CONTEXT_DETAIL]
            changes.append(change)
        ObjectChange.objects.bulk_create(changes, batch_size=batch_size)
        written.extend(change.pk for change in changes)
        for change in changes:
            postchange = change.object_data_v2
            prechange = None
            if change.action == update:
                prechange = {**postchange, **before.get(change.changed_object_id, {})}
            snapshots = {
                "prechange": prechange,
                "postchange": postchange,
                "differences": _differences(prechange, postchange) if prechange else {"removed": None, "added": None},
            }
            for webhook in webhooks:
                if getattr(webhook, flags[change.action]):
                    args = [
                        webhook.pk, postchange, model_name, change.action, str(timezone.now()), change.user_name,
                        str(request_id), snapshots,
                    ]  # fmt: skip
                    webhook_calls.append(args)
            if publishing:
                # The event core's dispatch publishes for each change (topic and payload as there).
                payload = {
                    **snapshots,
                    "context": {
                        "change_context": change.get_change_context_display(),
                        "change_context_detail": change.change_context_detail,
                        "request_id": str(request_id),
                        "user_name": change.user_name,
                        "timestamp": str(change.time),
                    },
                }
                events.append((f"nautobot.{change.action}.{content_type.app_label}.{model_name}", payload))
            if job_hooks[change.action]:
                hooked.append(change)

    def dispatch():
        for args in webhook_calls:
            process_webhook.apply_async(args=args)
        # Job hooks through core's enqueue_job_hooks, with the hooks found above: looking them up itself, it reads
        # (and unpickles) the cached list of change-logged content types for every change, ~7 ms each.
        reloaded = False
        for change in hooked:
            did_reload, _queryset = enqueue_job_hooks(
                change, may_reload_jobs=not reloaded, jobhook_queryset=job_hooks[change.action]
            )
            reloaded = reloaded or did_reload
        for topic, payload in events:
            publish_event(topic=topic, payload=payload)

    if webhook_calls or hooked or events:
        transaction.on_commit(dispatch)
    return written


# Model metadata read once per bulk operation. Every object a CSV import validates runs Nautobot's model clean(),
# which reads the same metadata again for each row: its custom fields (cache_get_or_set, which an enclosing
# nautobot.core.utils.cache.request_cache() scope keeps in process; web requests have one, Jobs do not) and the data
# validation rules (ValidationRuleManager.get_for_model/get_enabled_for_model: a Redis read and unpickle per rule
# kind, six per row, with no request-scope cache; and GitRepository.objects.get_for_provided_contents for the data
# compliance rules, one more). Every object a non-GET response represents (the 201 body of a CSV import) reads its
# model's computed fields and relationships again too (ComputedField.objects.get_for_model and
# Relationship.objects.get_for_model, given the object itself; core includes both fields in every non-GET
# response). The data validation's clean() also rebuilds the map of the apps' data compliance rules from the app
# registry for every object (get_data_compliance_rules_map: 125 Python calls per row; on Python before 3.13.13, at an
# unlucky call depth, as inside Django's test client, each maps and unmaps a stack chunk: CPython issue gh-142183, a
# quarter of a 5,000-row REST import there). Inside `metadata_lookups_read_once()` each is read once per model (the
# map once); the managers' methods and that module function are wrapped once per process and only memoize inside that
# scope (a ContextVar), so every other caller sees Nautobot's behaviour unchanged. The registry the map is built from
# is filled when the apps load, before any request or Job. Names used: request_cache, ValidationRuleManager,
# nautobot.data_validation.custom_validators.get_data_compliance_rules_map, GitRepository's, ComputedField's and
# Relationship's managers.
import contextlib  # noqa: E402
import contextvars  # noqa: E402
import functools  # noqa: E402

_rule_lookups = contextvars.ContextVar("nautobot_contracts_rule_lookups", default=None)


def _read_once(memo, key, read):
    """`read()`, remembered under `key` in the scope's memo."""
    if key not in memo:
        memo[key] = read()
    return memo[key]


def _memoized_rule_lookup(method):
    @functools.wraps(method)
    def lookup(self, argument):
        memo = _rule_lookups.get()
        if memo is None:
            return method(self, argument)
        return _read_once(memo, (self.model, method.__name__, argument), lambda: method(self, argument))

    lookup.nautobot_contracts_memoized = True
    return lookup


def _memoized_model_lookup(method):
    """Like _memoized_rule_lookup for a lookup given a model or one of its instances (keyed by concrete model).

    The parameter keeps core's name, `model`: Nautobot's own filter mixins call these lookups with `model=` by keyword.
    """

    @functools.wraps(method)
    def lookup(self, model, *args, **kwargs):
        memo = _rule_lookups.get()
        if memo is None or args or kwargs:
            return method(self, model, *args, **kwargs)
        key = (type(self), method.__name__, model._meta.concrete_model)
        return _read_once(memo, key, lambda: method(self, model))

    lookup.nautobot_contracts_memoized = True
    return lookup


def _memoized_function(function):
    """`function` (no arguments) called once inside the scope; outside it, called every time as before."""

    @functools.wraps(function)
    def memoized():
        memo = _rule_lookups.get()
        if memo is None:
            return function()
        return _read_once(memo, (function.__module__, function.__name__), function)

    memoized.nautobot_contracts_memoized = True
    return memoized


def _wrap_rule_lookups():
    # pylint: disable=import-outside-toplevel
    from nautobot.data_validation import custom_validators
    from nautobot.data_validation.models import ValidationRuleManager
    from nautobot.extras.models import ComputedField, GitRepository, Relationship

    # The data validation rules, and the Git repositories providing data compliance rules (read for every object too).
    lookups = (
        (ValidationRuleManager, ("get_for_model", "get_enabled_for_model"), _memoized_rule_lookup),
        (type(GitRepository.objects), ("get_for_provided_contents",), _memoized_rule_lookup),
        (type(ComputedField.objects), ("get_for_model",), _memoized_model_lookup),
        (type(Relationship.objects), ("get_for_model",), _memoized_model_lookup),
    )
    for manager_class, names, memoized in lookups:
        for name in names:
            method = getattr(manager_class, name)
            if not getattr(method, "nautobot_contracts_memoized", False):
                setattr(manager_class, name, memoized(method))
    # BaseValidator.clean() looks the function up in its module's globals at each call, so the module attribute is it.
    rules_map = custom_validators.get_data_compliance_rules_map
    if not getattr(rules_map, "nautobot_contracts_memoized", False):
        custom_validators.get_data_compliance_rules_map = _memoized_function(rules_map)


@contextlib.contextmanager
def metadata_lookups_read_once():
    """Within the block, custom and computed fields, relationships and data validation rules are read once per model."""
    from nautobot.core.utils.cache import request_cache  # pylint: disable=import-outside-toplevel

    _wrap_rule_lookups()
    token = _rule_lookups.set({})
    try:
        with request_cache():
            yield
    finally:
        _rule_lookups.reset(token)
