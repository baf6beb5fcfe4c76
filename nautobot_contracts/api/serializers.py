"""REST serializers. Computed figures (monthly cost, notice deadline, tier) come from the service layer.

Every serializer takes SparseFieldsMixin first, so `?fields=` / `?omit=` work on every endpoint.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models.manager import BaseManager
from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from nautobot.apps.api import (
    BaseModelSerializer,
    ContentTypeField,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
)
from nautobot.apps.models import TreeModel
from rest_framework import serializers

from nautobot_contracts import clock, csv_import
from nautobot_contracts.api.performance import PerformanceSerializerMixin, brief_representation
from nautobot_contracts.api.sparse_fields import SparseFieldsMixin
from nautobot_contracts.app_settings import assignable_content_types_q, assignable_model_labels
from nautobot_contracts.compat import (
    get_nested_serializer_depth,
    return_nested_serializer_data_based_on_depth,
)
from nautobot_contracts.currencies import CurrencyField, normalize_currency
from nautobot_contracts.models import (
    Contract,
    ContractAlert,
    ContractAssignment,
    ContractAttachment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)
from nautobot_contracts.models.attachments import attachment_file_name, default_attachment_name
from nautobot_contracts.services import money, terms


class CurrencyCodeField(serializers.CharField):
    """An ISO 4217 code, upper-cased before validation so "eur" is accepted and stored as "EUR" (as in forms/CSV)."""

    def to_internal_value(self, data):
        """Normalize, then let the model field's validators judge the code."""
        return normalize_currency(super().to_internal_value(data))


class CurrencyMappingMixin:
    """Serializer mixin mapping the app's CurrencyField to CurrencyCodeField."""

    serializer_field_mapping = {**BaseModelSerializer.serializer_field_mapping, CurrencyField: CurrencyCodeField}


class CSVColumnsSerializerMixin:
    """List first in a writable serializer's bases: the app's CSV rules on every path that validates through it.

    Nautobot's Import Objects Job parses with its own NautobotCSVParser, which the app cannot replace; this keeps
    csv_import's rules there too: a byte-order mark is not part of a column's name, an unknown column is an error
    naming it, and a relation whose columns are all blank means none (see csv_import.CSVColumns, normalize_row).
    """

    @property
    def fields(self):
        """The fields; for a CSV parser's reference serializer, wrapped so unknown columns are refused."""
        return csv_import.csv_columns(super().fields, self)

    def to_internal_value(self, data):
        """Normalize keys and blank relations, then validate as usual."""
        return super().to_internal_value(csv_import.normalize_row(data, self.fields))


def as_of_today():
    """The date the computed contract figures are taken on (a function so tests can pin it)."""
    return clock.today()


class ServiceProviderSerializer(
    CSVColumnsSerializerMixin,
    SparseFieldsMixin,
    PerformanceSerializerMixin,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
):
    """Service provider."""

    class Meta:
        model = ServiceProvider
        fields = "__all__"


class ContractSerializer(
    CSVColumnsSerializerMixin,
    SparseFieldsMixin,
    PerformanceSerializerMixin,
    CurrencyMappingMixin,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
):
    """Contract, with read-only figures computed by services.terms as of today."""

    monthly_cost = serializers.SerializerMethodField(help_text="Recurring cost per month, rounded half-up to cents")
    current_term_end = serializers.SerializerMethodField(help_text="End of the current term, as of today")
    notice_deadline = serializers.SerializerMethodField(
        help_text="Last day to give notice, as of today; null when the contract is not in force"
    )
    renewal_tier = serializers.SerializerMethodField(
        help_text="missed, urgent, soon or upcoming as of today; null when the contract is not active or not due"
    )

    class Meta:
        model = Contract
        fields = "__all__"
        # The (provider, contract_number) constraint only applies to non-blank numbers; DRF's unique-together
        # validator would otherwise make the number required.
        extra_kwargs = {"contract_number": {"required": False, "default": ""}}

    def _as_of(self):
        # One date for the whole response, even if it spans midnight.
        if not hasattr(self, "_as_of_date"):
            self._as_of_date = as_of_today()
        return self._as_of_date

    @extend_schema_field(serializers.CharField(read_only=True))
    def get_monthly_cost(self, obj):
        """recurring_cost / months per bill, as a string with two decimals."""
        return money.money_str(terms.monthly_cost(obj))

    def _figures(self, obj):
        # Three fields read the same figures; compute them once per contract and response.
        cache = self.__dict__.setdefault("_term_figures", {})
        if obj.pk not in cache:
            cache[obj.pk] = terms.term_figures(obj, self._as_of())
        return cache[obj.pk]

    @extend_schema_field(OpenApiTypes.DATE)
    def get_current_term_end(self, obj):
        """End date rolled forward by renewal terms while the contract is in force and auto-renews."""
        return self._figures(obj).current_term_end

    @extend_schema_field(serializers.DateField(allow_null=True, read_only=True))
    def get_notice_deadline(self, obj):
        """Current term end minus the notice period; null when the contract is not in force."""
        return self._figures(obj).notice_deadline

    @extend_schema_field(serializers.ChoiceField(choices=terms.TIERS, allow_null=True, read_only=True))
    def get_renewal_tier(self, obj):
        """The renewal check ranks contracts in force only (docs/user/app-overview.md#renewals)."""
        return self._figures(obj).tier


class InvoiceSerializer(
    CSVColumnsSerializerMixin,
    SparseFieldsMixin,
    PerformanceSerializerMixin,
    CurrencyMappingMixin,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
):
    """Invoice."""

    class Meta:
        model = Invoice
        fields = "__all__"


class AssignableContentTypeField(ContentTypeField):
    """An "app_label.model" content type, limited to the assignable types in the app's settings at request time."""

    default_error_messages = {
        **ContentTypeField.default_error_messages,
        "does_not_exist": "Contracts cannot be assigned to {content_type} objects. Assignable types: {assignable}.",
    }

    def get_queryset(self):
        """Read the setting on every use, so a changed PLUGINS_CONFIG applies without a restart."""
        return ContentType.objects.filter(assignable_content_types_q())

    def to_internal_value(self, data):
        """As ContentTypeField, but against the current assignable types and with a message listing them."""
        try:
            app_label, model = data.split(".")
            return self.get_queryset().get(app_label=app_label.lower(), model=model.lower())
        except ContentType.DoesNotExist:
            self.fail("does_not_exist", content_type=data, assignable=", ".join(assignable_model_labels()))
        except (AttributeError, TypeError, ValueError):
            self.fail("invalid")
        return None


class ContractAssignmentListSerializer(serializers.ListSerializer):
    """Loads the ancestors of tree-shaped targets (locations, tenant groups) for a whole page at once.

    Their `display` is the full ancestry ("Region → Site → Floor"); without this each target would walk its parents
    one query at a time.
    """

    def to_representation(self, data):
        """Wire up target ancestors, then serialize as usual."""
        items = list(data.all() if isinstance(data, BaseManager) else data)
        load_tree_ancestors(item.assigned_object for item in items)
        return super().to_representation(items)


def load_tree_ancestors(objects):
    """Fetch the parents of the given objects level by level (one query per model and tree level) and cache them."""
    pending = {}
    for obj in objects:
        if isinstance(obj, TreeModel):
            pending.setdefault(type(obj), []).append(obj)
    for model, nodes in pending.items():
        known = {node.pk: node for node in nodes}
        level = nodes
        while level:
            missing = {node.parent_id for node in level if node.parent_id and node.parent_id not in known}
            if missing:
                known.update((parent.pk, parent) for parent in model.objects.filter(pk__in=missing))
            for node in level:
                if node.parent_id and node.parent_id in known:
                    node.parent = known[node.parent_id]
            level = [known[pk] for pk in missing if pk in known]


# Set on targets fetched through a queryset restricted to the requesting user (api.views.assigned_object_querysets).
VIEWABLE_MARK = "contracts_viewable"


def viewable_target(assignment, request):
    """The assignment's target if the requesting user may view it, else None (and the assignment's cache says so).

    Targets prefetched for a list or detail GET are already restricted and marked; others (a write's response) are
    checked with one query. Without a request (change logging, webhooks, jobs) the target is shown.
    """
    target = assignment.assigned_object
    user = getattr(request, "user", None)
    if target is None or user is None or getattr(target, VIEWABLE_MARK, False):
        return target
    if type(target).objects.restrict(user, "view").filter(pk=target.pk).exists():
        setattr(target, VIEWABLE_MARK, True)
        return target
    # str(assignment) and `display` read the same cache, so they stop naming the target too.
    assignment._meta.get_field("assigned_object").set_cached_value(assignment, None)
    return None


class ContractAssignmentSerializer(
    CSVColumnsSerializerMixin,
    SparseFieldsMixin,
    PerformanceSerializerMixin,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
):
    """Assignment of a contract to a Nautobot object, written as type + id and read back as a brief object.

    A target the requesting user may not view is shown as its type and id only (display and url null), at every
    depth, and the assignment's own display names the id instead of the target.
    """

    assigned_object_type = AssignableContentTypeField(queryset=ContentType.objects.all())
    assigned_object = serializers.SerializerMethodField(
        help_text="The assigned object: object_type, id, display and url (the full object at ?depth=1 or more)"
    )

    class Meta:
        model = ContractAssignment
        fields = "__all__"
        list_serializer_class = ContractAssignmentListSerializer

    def to_representation(self, instance):
        """Hide a target the user may not view before any field (display included) reads it."""
        viewable_target(instance, self.context.get("request"))
        return super().to_representation(instance)

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "object_type and id; display and url are null when the target may not be viewed",
            "properties": {
                "object_type": {"type": "string"},
                "id": {"type": "string", "format": "uuid"},
                "display": {"type": "string", "nullable": True},
                "url": {"type": "string", "format": "uri", "nullable": True},
            },
            "additionalProperties": True,
        }
    )
    def get_assigned_object(self, obj):
        """Brief form with `display` at depth 0; Nautobot's nested, permission-aware form at depth 1 or more."""
        target = viewable_target(obj, self.context.get("request"))
        if target is None:
            if obj.assigned_object_type_id is None or obj.assigned_object_id is None:
                return None
            content_type = obj.assigned_object_type
            return {
                "object_type": f"{content_type.app_label}.{content_type.model}",
                "id": obj.assigned_object_id,
                "display": None,
                "url": None,
            }
        depth = get_nested_serializer_depth(self)
        if depth == 0:
            return brief_representation(target, self.context, include_display=True)
        return return_nested_serializer_data_based_on_depth(self, depth, obj, target, "assigned_object")


class AttachmentSerializerBase(
    SparseFieldsMixin, PerformanceSerializerMixin, NautobotModelSerializer, TaggedModelSerializerMixin
):
    """Shared by contract and invoice attachments: upload through `file`, read back metadata and a download link.

    The stored file's MEDIA_URL is never shown: `file` is write-only and downloads go through the app's
    permission-checked download view.
    """

    file = serializers.FileField(
        write_only=True,
        required=False,
        max_length=500,
        help_text="The file (multipart/form-data upload); required when creating",
    )
    filename = serializers.CharField(read_only=True, help_text="The stored file's name")
    download_url = serializers.SerializerMethodField(help_text="Permission-checked download link")

    download_view_name = None

    def to_internal_value(self, data):
        """Refuse a file on update (files are immutable); default the name to the (shortened) file name."""
        # super() first: it turns a body that is not an object (a string, a list) into a 400.
        attrs = super().to_internal_value(data)
        if self.instance is not None and (attrs.get("file") is not None or "file" in data):
            raise serializers.ValidationError({"file": [self.Meta.model.immutable_message]})
        if attrs.get("file") is not None:
            attrs["file"].name = attachment_file_name(attrs["file"].name)
            attrs["name"] = default_attachment_name(attrs.get("name"), attrs["file"].name)
        return attrs

    @extend_schema_field(serializers.URLField(allow_null=True, read_only=True))
    def get_download_url(self, obj):
        """Absolute URL of the download view, or null while that view is not installed."""
        try:
            url = reverse(self.download_view_name, kwargs={"pk": obj.pk})
        except NoReverseMatch:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def validate(self, attrs):
        """A new attachment needs a file; size and extension limits are checked by the model's clean()."""
        if self.instance is None and not attrs.get("file"):
            raise serializers.ValidationError({"file": "A file is required."})
        return super().validate(attrs)


class ContractAttachmentSerializer(AttachmentSerializerBase):
    """File stored against a contract."""

    download_view_name = "plugins:nautobot_contracts:contractattachment_download"

    class Meta:
        model = ContractAttachment
        fields = "__all__"
        extra_kwargs = {"name": {"required": False, "default": ""}}


class InvoiceAttachmentSerializer(AttachmentSerializerBase):
    """File stored against an invoice."""

    download_view_name = "plugins:nautobot_contracts:invoiceattachment_download"

    class Meta:
        model = InvoiceAttachment
        fields = "__all__"
        extra_kwargs = {"name": {"required": False, "default": ""}}


class CostSnapshotSerializer(SparseFieldsMixin, PerformanceSerializerMixin, CurrencyMappingMixin, BaseModelSerializer):
    """Cost snapshot, read-only: only the snapshot Job writes these.

    Nautobot's Import Objects system Job (and anything else that looks serializers up by model) writes through this
    class, so every field is read-only and validating write data is refused with a ValidationError naming the rule.
    """

    WRITE_REFUSED = "Cost snapshots are read-only: only the Capture cost history snapshot Job writes them."

    class Meta:
        model = CostSnapshot
        fields = "__all__"

    def get_fields(self):
        """Every field read-only, whatever a subclass or the model adds."""
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields

    def validate(self, attrs):
        """Refuse every write (is_valid() is only called on data coming in)."""
        raise serializers.ValidationError(self.WRITE_REFUSED)

    def create(self, validated_data):
        raise serializers.ValidationError(self.WRITE_REFUSED)

    def update(self, instance, validated_data):
        raise serializers.ValidationError(self.WRITE_REFUSED)


class ExchangeRateSerializer(
    CSVColumnsSerializerMixin,
    SparseFieldsMixin,
    PerformanceSerializerMixin,
    CurrencyMappingMixin,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
):
    """Exchange rate into the reporting currency."""

    class Meta:
        model = ExchangeRate
        fields = "__all__"


class ContractAlertSerializer(
    SparseFieldsMixin, CurrencyMappingMixin, NautobotModelSerializer, TaggedModelSerializerMixin
):
    """Contract alert: the Jobs write it; a PATCH changes only state, ack_comment and snoozed_until.

    The model's clean() applies services.alerts.person_change_errors; a refused change is a 400.
    """

    WRITABLE_FIELDS = ("state", "ack_comment", "snoozed_until")
    CREATE_REFUSED = "Contract alerts are raised only by the app's Jobs."

    class Meta:
        model = ContractAlert
        fields = "__all__"

    def get_fields(self):
        """Every field read-only except the three a person may change."""
        fields = super().get_fields()
        for name, field in fields.items():
            if name not in self.WRITABLE_FIELDS:
                field.read_only = True
        return fields

    def validate(self, attrs):
        """Creating through this serializer is refused; a change is checked by the model's clean() (a 400)."""
        if self.instance is None:
            raise serializers.ValidationError(self.CREATE_REFUSED)
        return super().validate(attrs)

    def create(self, validated_data):
        raise serializers.ValidationError(self.CREATE_REFUSED)
