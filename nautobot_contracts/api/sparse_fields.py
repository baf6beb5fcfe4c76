"""Sparse fieldsets for the REST API: `?fields=a,b` keeps only those fields, `?omit=a,b` drops them.

The serializer mixin prunes the top-level fields of the root serializer of a REST GET (list or detail). Nested
serializers (`?depth=`), serializers without a REST request (change logging, webhooks, jobs), write requests and
OPTIONS are left whole, so validation, OpenAPI generation and CSV import keep seeing every field. Unknown names are
ignored: the response holds the known names asked for (and `?fields=` naming nothing known yields empty objects).

The two parameters are not filters, so the filter backend removes them before the FilterSet (which runs with
STRICT_FILTERING) sees them, and the schema class documents them on every GET operation.
"""

from nautobot.apps.api import NautobotAutoSchema
from rest_framework.request import Request
from rest_framework.serializers import ListSerializer

from nautobot_contracts.compat import NautobotFilterBackend, NautobotOrderingFilter

FIELDS_PARAM = "fields"
OMIT_PARAM = "omit"
SPARSE_PARAMS = (FIELDS_PARAM, OMIT_PARAM)
READ_METHODS = ("GET", "HEAD")


def requested_names(query_params, param):
    """The comma-separated names given in (possibly repeated) `param`, or None when the parameter is absent."""
    if param not in query_params:
        return None
    names = set()
    for value in query_params.getlist(param):
        names.update(name.strip() for name in value.split(",") if name.strip())
    return names


class SparseFieldsMixin:
    """Serializer mixin honouring `?fields=` and `?omit=`; list it before Nautobot's serializer base classes."""

    def _sparse_selection(self):
        """(fields, omit) name sets from the request, or None when pruning does not apply to this serializer."""
        request = self.context.get("request")
        if not isinstance(request, Request) or request.method not in READ_METHODS:
            return None
        if getattr(self.Meta, "is_nested", False):
            return None
        # Only the root serializer, or the child of a root list serializer, represents the requested objects.
        parent = self.parent
        if parent is not None and not (isinstance(parent, ListSerializer) and parent.parent is None):
            return None
        keep = requested_names(request.query_params, FIELDS_PARAM)
        omit = requested_names(request.query_params, OMIT_PARAM) or set()
        if keep is None and not omit:
            return None
        return keep, omit

    @property
    def fields(self):
        """The serializer's fields, pruned per `?fields=` / `?omit=` (Nautobot's opt-in/m2m pruning runs first)."""
        fields = super().fields
        # `fields` is read once per represented object; parse the request once per serializer.
        if not hasattr(self, "_sparse_selection_cache"):
            self._sparse_selection_cache = self._sparse_selection()
        selection = self._sparse_selection_cache
        if selection is None:
            return fields
        keep, omit = selection
        for name in list(fields):
            if (keep is not None and name not in keep) or name in omit:
                del fields[name]
        return fields


class SparseFieldsFilterBackend(NautobotFilterBackend):
    """Nautobot's filter backend, also keeping `fields` and `omit` away from the FilterSet."""

    def get_filterset_kwargs(self, request, queryset, view):
        """Drop the sparse-fieldset parameters from the filter data."""
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        for param in SPARSE_PARAMS:
            kwargs["data"].pop(param, None)
        return kwargs


class SparseFieldsAutoSchema(NautobotAutoSchema):
    """Nautobot's OpenAPI schema, plus the `fields` and `omit` query parameters on GET operations.

    `?fields=` / `?omit=` may drop any property of a response, so the app's response components list none as
    required (generated clients would otherwise reject sparse responses); request components keep their lists.
    """

    def resolve_serializer(self, serializer, direction, bypass_extensions=False):
        """Nautobot's component, with `required` removed from the app's response components."""
        component = super().resolve_serializer(serializer, direction, bypass_extensions)
        if (
            direction == "response"
            and component is not None
            and isinstance(component.schema, dict)
            and type(serializer).__module__.startswith("nautobot_contracts.")
        ):
            component.schema.pop("required", None)
        return component

    def get_operation(self, *args, **kwargs):
        """Document the two parameters next to Nautobot's `depth` and `exclude_m2m`."""
        operation = super().get_operation(*args, **kwargs)
        if operation is None or self.method != "GET" or "parameters" not in operation:
            return operation
        known = {param["name"] for param in operation["parameters"]}
        descriptions = {
            FIELDS_PARAM: "Comma-separated field names: return only these fields (unknown names are ignored)",
            OMIT_PARAM: "Comma-separated field names: return all fields but these (unknown names are ignored)",
        }
        for name, description in descriptions.items():
            if name not in known:
                operation["parameters"].append(
                    {
                        "in": "query",
                        "name": name,
                        "required": False,
                        "description": description,
                        "schema": {"type": "string"},
                    }
                )
        return operation


class SparseFieldsViewSetMixin:
    """Viewset mixin: the filter backend and schema that go with SparseFieldsMixin serializers."""

    filter_backends = (SparseFieldsFilterBackend, NautobotOrderingFilter)
    schema = SparseFieldsAutoSchema()
