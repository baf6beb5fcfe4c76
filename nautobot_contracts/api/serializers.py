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
    Budget,
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
from nautobot_contracts.services import billing, budgets, entitlements, invoices, money, terms


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


def _request_user(serializer):
    """The requesting user, or None without a request (change logging, webhooks, Jobs see everything)."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _figures_wanted(serializer, names):
    """Compute billing/budget figures only for a REST response that shows one of `names`.

    Without a request (change logging, webhooks) they are null: each save would otherwise cost two more queries,
    and a stored change record would keep figures that change with every invoice.
    """
    if serializer.context.get("request") is None:
        return False
    return any(name in serializer.fields for name in names)


class PreloadingListSerializer(serializers.ListSerializer):
    """Lets the child compute figures for a whole page at once (`child.preload(items)`) before serializing it."""

    def to_representation(self, data):
        """Preload, then serialize as usual."""
        items = list(data.all() if isinstance(data, BaseManager) else data)
        self.child.preload(items)
        return super().to_representation(items)


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
    # Billing figures (services.billing) over the periods started by today; a page costs two queries for all of
    # them, and none when ?fields=/?omit= leaves them out.
    expected_to_date = serializers.SerializerMethodField(help_text="Sum of the expected amounts of started periods")
    invoiced_to_date = serializers.SerializerMethodField(help_text="Sum of the invoices counted in started periods")
    variance_to_date = serializers.SerializerMethodField(help_text="invoiced_to_date - expected_to_date")
    missing_periods = serializers.SerializerMethodField(help_text="Started periods with no invoice past the grace days")
    # Entitlement figures (services.entitlements) as of today; one query per page, none when no contract on it
    # states an entitlement.
    used = serializers.SerializerMethodField(
        help_text="Entitlement units used today (devices reached by the coverage rule, else the quantities of the "
        "assignments in force); null without an entitlement"
    )
    utilization_pct = serializers.SerializerMethodField(
        help_text="used / quantity x 100, one decimal (half-up); null without an entitlement"
    )
    over_quota = serializers.SerializerMethodField(help_text="used > quantity today; false without an entitlement")

    BILLING_FIELDS = ("expected_to_date", "invoiced_to_date", "variance_to_date", "missing_periods")
    ENTITLEMENT_FIELDS = ("used", "utilization_pct", "over_quota")

    class Meta:
        model = Contract
        fields = "__all__"
        # The (provider, contract_number) constraint only applies to non-blank numbers; DRF's unique-together
        # validator would otherwise make the number required.
        extra_kwargs = {"contract_number": {"required": False, "default": ""}}
        list_serializer_class = PreloadingListSerializer

    def preload(self, items):
        """The billing figures (two queries) and the entitlement figures (one) of a whole page, if shown."""
        self._preload_entitlements(items)
        if not _figures_wanted(self, self.BILLING_FIELDS):
            return
        cache = self.__dict__.setdefault("_billing_cache", {})
        pks = [item.pk for item in items if item.pk not in cache]
        if pks:
            figures = billing.contract_billing(
                self._as_of(), user=_request_user(self), queryset=Contract.objects.filter(pk__in=pks)
            )
            for item in items:
                cache[item.pk] = figures.get(item.pk) or billing.ContractBilling(item.pk, item.currency, [])

    def _preload_entitlements(self, items):
        if not _figures_wanted(self, self.ENTITLEMENT_FIELDS):
            return
        cache = self.__dict__.setdefault("_entitlement_cache", {})
        todo = [item for item in items if item.pk not in cache]
        if todo:
            figures = entitlements.entitlements_for(todo, self._as_of(), user=_request_user(self))
            for item in todo:
                cache[item.pk] = figures.get(item.pk)

    def _entitlement(self, obj):
        """(computed, Entitlement or None): not computed without a request (change logging, webhooks)."""
        cache = self.__dict__.setdefault("_entitlement_cache", {})
        if obj.pk not in cache:
            self._preload_entitlements([obj])
        return obj.pk in cache, cache.get(obj.pk)

    @extend_schema_field(serializers.IntegerField(allow_null=True, read_only=True))
    def get_used(self, obj):
        """Units used today."""
        _computed, figure = self._entitlement(obj)
        return figure.used if figure else None

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_utilization_pct(self, obj):
        """One decimal, e.g. "64.0"."""
        _computed, figure = self._entitlement(obj)
        return str(figure.utilization_pct) if figure else None

    @extend_schema_field(serializers.BooleanField(allow_null=True, read_only=True))
    def get_over_quota(self, obj):
        """False without an entitlement; null only where figures are not computed (change records, webhooks)."""
        computed, figure = self._entitlement(obj)
        if not computed:
            return None
        return figure.over_quota if figure else False

    def _billing(self, obj):
        cache = self.__dict__.setdefault("_billing_cache", {})
        if obj.pk not in cache:
            self.preload([obj])
        return cache.get(obj.pk)

    def _billing_figure(self, obj, name):
        figures = self._billing(obj)
        if figures is None:
            return None
        value = getattr(figures, name)
        return value if name == "missing_periods" else money.money_str(value)

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_expected_to_date(self, obj):
        """Two decimals."""
        return self._billing_figure(obj, "expected_to_date")

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_invoiced_to_date(self, obj):
        """Two decimals."""
        return self._billing_figure(obj, "invoiced_to_date")

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_variance_to_date(self, obj):
        """Two decimals; negative when under-billed."""
        return self._billing_figure(obj, "variance_to_date")

    @extend_schema_field(serializers.IntegerField(allow_null=True, read_only=True))
    def get_missing_periods(self, obj):
        """Count of missing periods."""
        return self._billing_figure(obj, "missing_periods")

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
    """Invoice, with its billing period's figures (services.billing) and days overdue as of today."""

    billing_period_start = serializers.SerializerMethodField(
        help_text="Start of the billing period the invoice counts in; null when it is in none"
    )
    expected_amount = serializers.SerializerMethodField(help_text="What that billing period should be billed")
    variance = serializers.SerializerMethodField(
        help_text="Invoiced (all invoices of the period) - expected; null when the invoice is in no period"
    )
    days_overdue = serializers.SerializerMethodField(help_text="Days past the due date of an Open invoice, else 0")

    BILLING_FIELDS = ("billing_period_start", "expected_amount", "variance")

    class Meta:
        model = Invoice
        fields = "__all__"
        list_serializer_class = PreloadingListSerializer

    def _as_of(self):
        if not hasattr(self, "_as_of_date"):
            self._as_of_date = as_of_today()
        return self._as_of_date

    def preload(self, items):
        """The billing periods of a whole page's invoices in two queries, if any billing field is shown."""
        if not _figures_wanted(self, self.BILLING_FIELDS):
            return
        cache = self.__dict__.setdefault("_period_cache", {})
        todo = [item for item in items if item.pk not in cache]
        if todo:
            periods = billing.invoice_periods(todo, self._as_of(), user=_request_user(self))
            for item in todo:
                cache[item.pk] = periods.get(item.pk)

    def _period(self, obj):
        cache = self.__dict__.setdefault("_period_cache", {})
        if obj.pk not in cache:
            self.preload([obj])
        return cache.get(obj.pk)

    @extend_schema_field(serializers.DateField(allow_null=True, read_only=True))
    def get_billing_period_start(self, obj):
        """The period containing the invoice's period_start (or its invoice date)."""
        period = self._period(obj)
        return period.start if period else None

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_expected_amount(self, obj):
        """Two decimals."""
        period = self._period(obj)
        return money.money_str(period.expected) if period else None

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_variance(self, obj):
        """Two decimals."""
        period = self._period(obj)
        return money.money_str(period.variance) if period else None

    @extend_schema_field(serializers.IntegerField(read_only=True))
    def get_days_overdue(self, obj):
        """services.invoices.days_overdue."""
        return invoices.days_overdue(obj, self._as_of())


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


class BudgetSerializer(
    CSVColumnsSerializerMixin,
    SparseFieldsMixin,
    CurrencyMappingMixin,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
):
    """Budget, with actual, committed, remaining, used_pct and over_budget computed by services.budgets as of today."""

    actual = serializers.SerializerMethodField(help_text="Invoices dated in the fiscal year (by today)")
    committed = serializers.SerializerMethodField(help_text="actual + expected of the fiscal year's uninvoiced periods")
    remaining = serializers.SerializerMethodField(help_text="amount - committed")
    used_pct = serializers.SerializerMethodField(help_text="committed / amount x 100; null for an amount of 0")
    over_budget = serializers.SerializerMethodField(help_text="committed > amount")

    FIGURE_FIELDS = ("actual", "committed", "remaining", "used_pct", "over_budget")

    class Meta:
        model = Budget
        fields = "__all__"
        list_serializer_class = PreloadingListSerializer
        # DRF's validator for the scope constraint would otherwise make these required.
        extra_kwargs = {
            "cost_center": {"required": False, "default": ""},
            "tenant": {"required": False, "default": None},
        }

    def preload(self, items):
        """The figures of a whole page in two queries, if any computed field is shown."""
        if not _figures_wanted(self, self.FIGURE_FIELDS):
            return
        cache = self.__dict__.setdefault("_budget_cache", {})
        todo = [item for item in items if item.pk not in cache]
        if todo:
            cache.update(budgets.budget_figures(todo, as_of_today(), user=_request_user(self)))

    def _budget_figure(self, obj, name):
        cache = self.__dict__.setdefault("_budget_cache", {})
        if obj.pk not in cache:
            self.preload([obj])
        figures = cache.get(obj.pk)
        if figures is None:
            return None
        value = getattr(figures, name)
        if name == "over_budget":
            return value
        if name == "used_pct":
            return None if value is None else str(value)
        return money.money_str(value)

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_actual(self, obj):
        """Two decimals."""
        return self._budget_figure(obj, "actual")

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_committed(self, obj):
        """Two decimals."""
        return self._budget_figure(obj, "committed")

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_remaining(self, obj):
        """Two decimals; negative when over budget."""
        return self._budget_figure(obj, "remaining")

    @extend_schema_field(serializers.CharField(allow_null=True, read_only=True))
    def get_used_pct(self, obj):
        """Two decimals."""
        return self._budget_figure(obj, "used_pct")

    @extend_schema_field(serializers.BooleanField(allow_null=True, read_only=True))
    def get_over_budget(self, obj):
        """Committed spend exceeds the budget."""
        return self._budget_figure(obj, "over_budget")


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
    SparseFieldsMixin, PerformanceSerializerMixin, CurrencyMappingMixin, NautobotModelSerializer,
    TaggedModelSerializerMixin,
):  # fmt: skip
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
