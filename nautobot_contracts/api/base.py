"""The base every app REST viewset takes: input Nautobot's viewsets would answer with a 500 becomes a 4xx.

Each containment below is for a gap in Nautobot's own viewsets (nautobot.core.api.views, nautobot.extras.api.views);
docs/dev/input-robustness.md lists them.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, QueryDict
from nautobot.apps.utils import is_uuid
from rest_framework.exceptions import ParseError, ValidationError

from nautobot_contracts.api.parsers import bounded_parsers
from nautobot_contracts.compat import is_truthy  # the parser Nautobot's serializers use

# Query parameters Nautobot's viewsets and serializers read as booleans with is_truthy(), which raises on other words.
BOOLEAN_QUERY_PARAMS = ("exclude_m2m",)
# Actions whose body is one object, and actions (on the list URL) whose body is a list of objects.
OBJECT_BODY_ACTIONS = ("update", "partial_update", "notes")
LIST_BODY_ACTIONS = ("bulk_update", "bulk_partial_update", "bulk_destroy")
FORM_REFUSED_FIELDS = ("custom_fields", "relationships")


class RobustViewSetMixin:
    """List before Nautobot's viewset classes."""

    def get_parsers(self):
        """JSON bodies are parsed with a bound on their depth (deep nesting is a RecursionError in json)."""
        return bounded_parsers(super().get_parsers())

    def initial(self, request, *args, **kwargs):
        """Check query parameters, the URL's id and the body's shape before any handler reads them."""
        # Before Nautobot's initial(): its permission check already builds a serializer, which reads these.
        for name in BOOLEAN_QUERY_PARAMS:
            if name in request.query_params:
                try:
                    is_truthy(request.query_params[name])
                except ValueError:
                    raise ValidationError(
                        {name: [f"{request.query_params[name]!r} is not a boolean: use true or false."]}
                    )
        super().initial(request, *args, **kwargs)
        # Nautobot's notes action looks the object up itself, where a malformed id is a Django ValidationError.
        if self.action == "notes" and not is_uuid(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")):
            raise Http404
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            self.check_body_shape(request)

    def check_body_shape(self, request):
        """An object where one object is expected, a list of objects where a list is; anything else is a 400."""
        # Nautobot's serializers call .items() on these; a form or multipart body can only carry them as strings.
        if isinstance(request.data, QueryDict):
            for name in FORM_REFUSED_FIELDS:
                if name in request.data:
                    raise ParseError(f"{name} cannot be sent in a form body; set it with a JSON PATCH afterwards.")
        if self.action in LIST_BODY_ACTIONS:
            data = request.data
            if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
                raise ParseError("Bulk operations take a JSON list of objects, each with its id.")
        elif self.action in OBJECT_BODY_ACTIONS and request.method != "GET":
            if not isinstance(request.data, Mapping):
                raise ParseError("The body must be a JSON object.")
        elif self.action == "create":
            data = request.data
            items = data if isinstance(data, list) else [data]
            if not items or not all(isinstance(item, Mapping) for item in items):
                raise ParseError("The body must be a JSON object, or a non-empty list of objects.")

    def get_object(self):
        """A detail URL whose id is no id of this model (for its natural key either) is a 404, not a 500."""
        try:
            return super().get_object()
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise Http404 from None
