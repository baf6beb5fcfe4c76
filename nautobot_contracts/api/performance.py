"""Per-response caches that make the app's REST lists cheap per row, without changing a byte of the response.

A profile of `contracts/?limit=1000` (docs/dev/performance.md) showed the time going to work Nautobot and
django-taggit repeat for every object although the answer is the same for the whole response:

- the tags prefetch builds one filtered queryset per object (taggit's manager ``get_queryset()``, called by
  Django's prefetch for each instance only to hold the cached result): ``TagsPrefetchViewSetMixin`` runs taggit's
  own prefetch query once and hands every object a queryset shared by all objects with the same tags;
- every hyperlink (``url``, each related object, each tag, ``notes_url``, an assignment's target) is a full
  ``reverse()``: ``cached_url()`` reverses each route once per response with a placeholder id and substitutes it;
- ``natural_slug`` is computed twice per object (BaseModelSerializer passes it as getattr's eagerly evaluated
  default) and re-slugifies the provider's name for every one of its contracts: ``natural_slug()`` slugifies each
  distinct natural-key value once per process (``slug_part``, skipping core's emoji pass for ASCII values);
- each related object's brief ``{id, object_type, url}`` (status, provider, tenant, tags) is rebuilt for every
  row: ``CachedHyperlinkedRelatedField`` builds it once per distinct object and route;
- ``custom_fields`` looks its model's custom field keys up again for every row: once per response here;
- at ``?depth=1`` (and in every change-log record and webhook, which Nautobot serializes at depth 1) each related
  object is serialized in full for every row that shows it, through the related model's serializer, Nautobot's
  core ones included (a status or tenant shared by a thousand contracts is serialized a thousand times):
  ``memoized_nested()`` serializes each distinct related object once per response.

Everything is keyed by what the cached value depends on and lives in the serializer context of one response, so
nothing outlives a request. ``PerformanceSerializerMixin`` carries it to a serializer (list it before Nautobot's
base classes); the app's base viewset carries the tags prefetch.
"""

from collections import defaultdict
import copy
import functools
import re
import uuid

from django.db.models import Model
from nautobot.apps.api import NautobotHyperlinkedRelatedField
from nautobot.apps.models import BaseModel, construct_natural_slug
from nautobot.extras.models import Tag
from rest_framework import serializers

from nautobot_contracts.compat import CustomFieldsDataField, get_brief_representation, slugify
from nautobot_contracts.models.providers import UnicodeSafeNaturalSlugMixin

# The natural_slug implementations natural_slug() below reproduces (any other is asked directly).
NATURAL_SLUG_PROPERTIES = (BaseModel.natural_slug, UnicodeSafeNaturalSlugMixin.natural_slug)
ALREADY_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_SEPARATOR = construct_natural_slug(["a", "b"])[1]  # Nautobot's NATURAL_SLUG_SEPARATOR, "_"

CACHE_KEY = "_nautobot_contracts_response_cache"
# A well-formed UUID no object has: reversed in place of an id, then replaced by each object's id.
PLACEHOLDER = uuid.UUID("f0f0f0f0-f0f0-4f0f-8f0f-f0f0f0f0f0f0")
PLACEHOLDER_TEXT = str(PLACEHOLDER)


def response_cache(context, name):
    """The dict `name` of the per-response cache in a serializer `context` (shared by the root and all fields)."""
    caches = context.get(CACHE_KEY) if context is not None else None
    if caches is None:
        caches = defaultdict(dict)
        if context is not None:
            context[CACHE_KEY] = caches
    return caches[name]


def url_template(context, key, build):
    """``build(PLACEHOLDER)`` once per response and `key`; None when the placeholder is not in it exactly once."""
    templates = response_cache(context, "url_templates")
    if key not in templates:
        url = build(PLACEHOLDER)
        templates[key] = url if url is not None and str(url).count(PLACEHOLDER_TEXT) == 1 else None
    return templates[key]


def cached_url(context, key, build, pk):
    """``build(pk)``, from a template built once per response when `pk` is a UUID (Django quotes nothing in one)."""
    if isinstance(pk, uuid.UUID):
        template = url_template(context, key, build)
        if template is not None:
            return str(template).replace(PLACEHOLDER_TEXT, str(pk))
    return build(pk)


class CachedHyperlinkedURLMixin:
    """`get_url` for DRF hyperlinked fields: one reverse() per route and response instead of one per object."""

    def get_url(self, obj, view_name, request, format):  # pylint: disable=redefined-builtin
        """As DRF's get_url(), through the response's URL template for pk lookups."""
        if self.lookup_field != "pk" or (hasattr(obj, "pk") and obj.pk in (None, "")):
            return super().get_url(obj, view_name, request, format)

        def build(pk):
            kwargs = {self.lookup_url_kwarg: pk}
            return self.reverse(view_name, kwargs=kwargs, request=request, format=format)

        return cached_url(self.context, ("field", view_name, self.lookup_url_kwarg, format), build, obj.pk)


class CachedHyperlinkedRelatedField(CachedHyperlinkedURLMixin, NautobotHyperlinkedRelatedField):
    """Nautobot's related field; each distinct object's brief {id, object_type, url} is built once per response."""

    def to_representation(self, value):
        """Nautobot's representation, from the response cache when the object was shown before."""
        key = (self.view_name, type(value) if isinstance(value, Model) else None, value.pk)
        briefs = response_cache(self.context, "briefs")
        if key not in briefs:
            briefs[key] = super().to_representation(value)
        brief = briefs[key]
        # A copy per row: the same dict must not be shared by every row that shows the object.
        return dict(brief) if isinstance(brief, dict) else brief


class CachedHyperlinkedIdentityField(CachedHyperlinkedURLMixin, serializers.HyperlinkedIdentityField):
    """The `url` field, reversed once per response."""


class CachedCustomFieldsDataField(CustomFieldsDataField):
    """`custom_fields`, with the model's custom field keys looked up once per response."""

    @property
    def custom_field_keys(self):
        """The keys of the model's custom fields (cached for one response)."""
        keys = response_cache(self.context, "custom_field_keys")
        model = self.parent.Meta.model
        if model not in keys:
            keys[model] = super().custom_field_keys
        return keys[model]


@functools.lru_cache(maxsize=65536)
def slug_part(key):
    """construct_natural_slug([key]) for one natural-key value (as text), remembered for the process (it is pure).

    Nautobot first replaces emoji by their names (the `emoji` package's tokenizer, most of the cost of a slug), then
    slugifies; every emoji sequence holds a non-ASCII character, so an ASCII value goes straight to the same slugify.
    """
    if ALREADY_SLUG.fullmatch(key):  # lower-case ASCII words joined by dashes slugify to themselves
        return key
    if key.isascii():
        return slugify(key)
    return construct_natural_slug([key])


def natural_slug(instance):
    """`instance.natural_slug`, slugifying each distinct natural-key value (a provider's name, ...) once per process.

    Same result as Nautobot's construct_natural_slug(): each value slugified on its own, joined by the separator.
    A model with its own natural_slug (other than the app's Unicode-safe fallback) is asked directly, and so is any
    value Nautobot's slugify cannot handle (the model's property then applies its fallback).
    """
    if getattr(type(instance), "natural_slug", None) not in NATURAL_SLUG_PROPERTIES:
        return instance.natural_slug
    try:
        slugged = [slug_part("\0" if value is None else str(value)) for value in instance.natural_key()]
        pk = (
            construct_natural_slug([], pk=instance.pk)
            if not isinstance(instance.pk, uuid.UUID)
            else str(instance.pk)[:4]
        )
        slugged.append(pk)
    except TypeError:
        return instance.natural_slug
    return SLUG_SEPARATOR.join(slugged)


_MEMOIZED_NESTED = {}


def memoized_nested(serializer_class):
    """`serializer_class` (a nested serializer Nautobot built) representing each distinct object once per response.

    The representation of a related object depends only on the object and the request (whose user decides whether
    it is shown in full or downgraded to its brief form), both fixed for one response; each use gets its own copy.
    """
    if serializer_class not in _MEMOIZED_NESTED:

        def to_representation(self, instance):
            if not isinstance(instance, Model) or instance.pk is None:
                return super(memoized, self).to_representation(instance)
            nested = response_cache(self.context, "nested")
            key = (serializer_class, type(instance), instance.pk)
            if key not in nested:
                nested[key] = super(memoized, self).to_representation(instance)
            return copy.copy(nested[key])

        memoized = type(serializer_class.__name__, (serializer_class,), {"to_representation": to_representation})
        memoized.__qualname__ = serializer_class.__qualname__
        _MEMOIZED_NESTED[serializer_class] = memoized
    return _MEMOIZED_NESTED[serializer_class]


class PerformanceSerializerMixin:
    """List before Nautobot's serializer base classes: per-response caches for URLs, briefs, slugs, custom fields."""

    serializer_related_field = CachedHyperlinkedRelatedField
    serializer_url_field = CachedHyperlinkedIdentityField

    def get_fields(self):
        """Nautobot's fields, with `custom_fields` reading its keys once per response."""
        fields = super().get_fields()
        field = fields.get("custom_fields")
        if type(field) is CustomFieldsDataField:  # pylint: disable=unidiomatic-typecheck
            fields["custom_fields"] = CachedCustomFieldsDataField(*field._args, **field._kwargs)
        return fields

    def build_property_field(self, field_name, model_class):
        """Nautobot's tags field, as the cached related field."""
        field_class, field_kwargs = super().build_property_field(field_name, model_class)
        if field_class is NautobotHyperlinkedRelatedField:
            field_class = CachedHyperlinkedRelatedField
        return field_class, field_kwargs

    def build_nested_field(self, field_name, relation_info, nested_depth):
        """Nautobot's nested serializer for a related object at depth > 0, memoized per object and response."""
        field_class, field_kwargs = super().build_nested_field(field_name, relation_info, nested_depth)
        return memoized_nested(field_class), field_kwargs

    def get_natural_slug(self, instance):
        """Nautobot's natural_slug, computed once per object with per-response slug parts."""
        try:
            return natural_slug(instance)
        except (AttributeError, NotImplementedError):
            return "unknown"

    def get_notes_url(self, instance):
        """Nautobot's notes URL, reversed once per model and response."""
        if "request" not in self.context:  # core's get_notes_url() reads context["request"]: let it say so
            return super().get_notes_url(instance)
        parent = super()

        def build(pk):
            return parent.get_notes_url(with_pk(instance, pk))

        return cached_url(self.context, ("notes", type(instance)), build, instance.pk)


def with_pk(instance, pk):
    """A shallow copy of `instance` with another primary key (only ever reversed into a URL template)."""
    other = copy.copy(instance)
    other.pk = pk
    return other


def brief_representation(instance, context, include_display=False):
    """Nautobot's get_brief_representation() {id, object_type, url[, display]}, built once per object and response.

    The URL is reversed once per model; `display` is read once per object (a location's walks its ancestry through
    Nautobot's cache and reads a Constance setting, a round trip each, for every row that shows it).
    """
    briefs = response_cache(context, "generic_briefs")
    key = (type(instance), instance.pk, include_display)
    if key not in briefs:
        request = context.get("request")

        def build(pk):
            return get_brief_representation(with_pk(instance, pk), request)["url"]

        data = {
            "id": instance.pk,
            "object_type": type(instance)._meta.label_lower,
            "url": cached_url(context, ("brief", type(instance)), build, instance.pk),
        }
        if include_display:
            data["display"] = getattr(instance, "display", str(instance))
        briefs[key] = data
    return dict(briefs[key])


class TagsPrefetchViewSetMixin:
    """Viewset mixin: a page's tags in taggit's one prefetch query, without taggit's per-object queryset."""

    def paginate_queryset(self, queryset):
        """Paginate without Nautobot's `tags` prefetch, then attach the page's tags from one query."""
        lookups = getattr(queryset, "_prefetch_related_lookups", ())
        if not self._fast_tags() or "tags" not in lookups:
            return super().paginate_queryset(queryset)
        queryset = queryset.prefetch_related(None).prefetch_related(*(lookup for lookup in lookups if lookup != "tags"))
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_tags(page)
        else:  # pragma: no cover - every app list is paginated; keep Nautobot's prefetch otherwise
            return super().paginate_queryset(queryset.prefetch_related("tags"))
        return page

    def _fast_tags(self):
        # A CSV export reads tag names through further queries on each object's tag queryset: leave it to taggit.
        request = getattr(self, "request", None)
        return request is not None and "text/csv" not in (getattr(request, "accepted_media_type", "") or "")


def attach_tags(objects):
    """Give each object its prefetched tags, as Django's prefetch would, from one query (taggit's own)."""
    objects = [obj for obj in objects if obj is not None]
    if not objects:
        return
    # The class-level manager, as Django's prefetch uses it: taggit's query for all the objects, in Tag order.
    manager = type(objects[0]).tags
    tags_queryset, tag_key, object_key, _single, cache_name, _descriptor = manager.get_prefetch_querysets(objects)
    by_object = defaultdict(list)
    for tag in tags_queryset:
        # The through table's object id may come back as text (an extra() column): compare as text.
        by_object[str(tag_key(tag))].append(tag)
    shared = {}
    for obj in objects:
        tags = by_object.get(str(object_key(obj)), [])
        ids = tuple(tag.pk for tag in tags)
        if ids not in shared:
            # One queryset per distinct set of tags: it yields the prefetched tags and, filtered further, stays
            # correct (it selects those tags), as taggit's per-object queryset would.
            queryset = Tag.objects.filter(pk__in=ids) if ids else Tag.objects.none()
            queryset._result_cache = tags
            queryset._prefetch_done = True
            shared[ids] = queryset
        if not hasattr(obj, "_prefetched_objects_cache"):
            obj._prefetched_objects_cache = {}
        obj._prefetched_objects_cache[cache_name] = shared[ids]


__all__ = (
    "PerformanceSerializerMixin",
    "TagsPrefetchViewSetMixin",
    "attach_tags",
    "brief_representation",
    "cached_url",
    "memoized_nested",
    "natural_slug",
)
