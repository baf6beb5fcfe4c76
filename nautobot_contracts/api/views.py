"""REST API viewsets.

Nautobot's ModelViewSet already select_related()s the foreign keys and prefetch_related()s the many-to-many fields
its serializer shows; the querysets here add what it cannot see (the generic assigned object, the relations behind
`display`/natural keys), so that every list runs a number of queries independent of the page size.
"""

from django.apps import apps
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db import IntegrityError
from django.db.models import Value
from nautobot.apps.api import NautobotCSVParser, NautobotModelViewSet, ReadOnlyModelViewSet
from nautobot.dcim.models import Device
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from nautobot_contracts import filters, models
from nautobot_contracts.api import serializers
from nautobot_contracts.api.base import RobustViewSetMixin
from nautobot_contracts.api.performance import TagsPrefetchViewSetMixin
from nautobot_contracts.api.sparse_fields import SparseFieldsViewSetMixin
from nautobot_contracts.app_settings import assignable_model_labels
from nautobot_contracts.bulk_edit import bulk_update_naming_refusals
from nautobot_contracts.compat import metadata_lookups_read_once
from nautobot_contracts.csv_import import ContractsCSVParser, CSVImportError, import_csv
from nautobot_contracts.gc_freeze import frozen_heap


class ContractsModelViewSet(
    RobustViewSetMixin, SparseFieldsViewSetMixin, TagsPrefetchViewSetMixin, NautobotModelViewSet
):
    """Base of the app's writable endpoints: sparse fieldsets, no 500 for bad input, a unique clash as a 400."""

    # text/csv bodies follow the app's import rules (csv_import): BOM, encoding, unknown columns, line numbers.
    parser_classes = (JSONParser, ContractsCSVParser)

    # Rows of one bulk or CSV request are validated one by one against the database, so two rows sharing a unique
    # key only clash when saved. Nautobot saves inside transaction.atomic(), so nothing of the request is kept.
    def perform_create(self, serializer):
        """Create, reporting a unique-key clash between the request's own rows as a validation error."""
        try:
            super().perform_create(serializer)
        except IntegrityError as error:
            raise ValidationError({"__all__": [f"Not saved, a unique key is repeated: {clash_detail(error)}"]})

    def perform_update(self, serializer):
        """Update, reporting a unique-key clash as a validation error."""
        try:
            super().perform_update(serializer)
        except IntegrityError as error:
            raise ValidationError({"__all__": [f"Not saved, a unique key is repeated: {clash_detail(error)}"]})

    def create(self, request, *args, **kwargs):
        """A text/csv body is imported by the app's bulk importer (csv_import): all or nothing, every bad line a 400."""
        request.data  # noqa: B018  # parses the body; ContractsCSVParser keeps a CSV text on the request
        text = getattr(request, "contracts_csv_text", None)
        if text is None:
            return super().create(request, *args, **kwargs)
        model = self.get_queryset().model
        # The import and its 201 body (every created object) out of the garbage collector's way (gc_freeze); the
        # body's computed fields and relationships (core shows both in non-GET responses) looked up once per model.
        with frozen_heap():
            try:
                objects = import_csv(
                    text, self.get_serializer_class(), model.objects.restrict(request.user, "add"), request
                )
            except CSVImportError as error:
                raise ValidationError([str(row_error) for row_error in error.errors]) from error
            with metadata_lookups_read_once():
                data = self.get_serializer(objects, many=True).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_bulk_update(self, objects, update_data, partial):
        """Bulk PATCH/PUT, all or nothing as in Nautobot, with the 400 naming every refused object (bulk_edit)."""
        return bulk_update_naming_refusals(self, objects, update_data, partial)


def clash_detail(error):
    """PostgreSQL's DETAIL line (which key, which values) when there is one, else the message itself."""
    detail = getattr(getattr(error.__cause__, "diag", None), "message_detail", None)
    return detail or str(error).strip().splitlines()[0]


class ServiceProviderViewSet(ContractsModelViewSet):
    """Service providers."""

    queryset = models.ServiceProvider.objects.all()
    serializer_class = serializers.ServiceProviderSerializer
    filterset_class = filters.ServiceProviderFilterSet


class ContractViewSet(ContractsModelViewSet):
    """Contracts, with monthly cost, current term end, notice deadline and renewal tier computed as of today."""

    # status feeds the renewal tier; provider the display/natural key.
    queryset = models.Contract.objects.select_related("provider", "status", "tenant")
    serializer_class = serializers.ContractSerializer
    filterset_class = filters.ContractFilterSet


class InvoiceViewSet(ContractsModelViewSet):
    """Invoices."""

    # At ?depth=1 the nested contract shows its renewal tier, which reads the contract's status.
    queryset = models.Invoice.objects.select_related("contract__provider", "contract__status", "status")
    serializer_class = serializers.InvoiceSerializer
    filterset_class = filters.InvoiceFilterSet


class ContractAssignmentViewSet(ContractsModelViewSet):
    """Contract assignments; the assigned objects are fetched with one query per object type."""

    queryset = models.ContractAssignment.objects.select_related(
        "contract__provider", "contract__status", "assigned_object_type"
    )
    serializer_class = serializers.ContractAssignmentSerializer
    filterset_class = filters.ContractAssignmentFilterSet

    def get_queryset(self):
        """Prefetch the generic assigned object, as far as the user may view it, with what its representation reads."""
        user = getattr(self.request, "user", None)
        return (
            super()
            .get_queryset()
            .prefetch_related(
                GenericPrefetch("assigned_object", assigned_object_querysets(self.requested_depth(), user=user))
            )
        )

    def requested_depth(self):
        """The ?depth of a GET (Nautobot serializes writes at depth 0); errors are left to Nautobot to report."""
        if self.request is None or self.request.method != "GET":
            return 0
        try:
            return int(self.request.query_params.get("depth", 0))
        except ValueError:
            return 0


def assigned_object_querysets(depth, user=None):
    """One queryset per assignable model for GenericPrefetch, restricted to what `user` may view.

    A target the user may not view is prefetched as None (the serializer then shows only its type and id); the
    ones fetched are marked as viewed-checked, so the serializer needs no query of its own. At depth 0 only
    `display` is read (a device's may need its type and virtual chassis); at depth 1 or more the target is
    serialized in full, so its foreign keys and natural-key relations are joined too.
    """
    querysets = []
    for label in assignable_model_labels():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        related = []
        if model is Device:
            related += ["device_type__manufacturer", "virtual_chassis"]
        if depth:
            related += [field.name for field in model._meta.concrete_fields if field.many_to_one]
            # Reverse one-to-one relations (e.g. a device's parent_bay) are fields of the full representation too.
            related += [rel.get_accessor_name() for rel in model._meta.related_objects if rel.one_to_one]
            related += [lookup.rsplit("__", 1)[0] for lookup in model.natural_key_field_lookups if "__" in lookup]
        queryset = model.objects.select_related(*dict.fromkeys(related)) if related else model.objects.all()
        if user is not None:
            queryset = queryset.restrict(user, "view").annotate(**{serializers.VIEWABLE_MARK: Value(True)})
        querysets.append(queryset)
    return querysets


class AttachmentViewSetBase(ContractsModelViewSet):
    """Attachments are created by multipart upload; JSON and CSV stay available for everything else."""

    parser_classes = (JSONParser, MultiPartParser, FormParser, NautobotCSVParser)
    # A form body is one object, never the list a bulk update needs: only single-object actions parse one (an
    # update that carries a file is then refused by the serializer with a 400 saying files are immutable).
    form_body_actions = ("create", "update", "partial_update")

    def get_parsers(self):
        """Form and multipart parsers for single-object actions only; bulk actions answer 415 for such bodies."""
        # Called before self.action is set, so the action is looked up from the route's method map.
        action = getattr(self, "action_map", {}).get(self.request.method.lower()) if self.request else None
        parsers = super().get_parsers()
        if action in self.form_body_actions:
            return parsers
        return [parser for parser in parsers if not isinstance(parser, (MultiPartParser, FormParser))]


class ContractAttachmentViewSet(AttachmentViewSetBase):
    """Contract attachments."""

    queryset = models.ContractAttachment.objects.select_related("contract__provider", "contract__status")
    serializer_class = serializers.ContractAttachmentSerializer
    filterset_class = filters.ContractAttachmentFilterSet


class InvoiceAttachmentViewSet(AttachmentViewSetBase):
    """Invoice attachments."""

    queryset = models.InvoiceAttachment.objects.select_related("invoice__contract__provider")
    serializer_class = serializers.InvoiceAttachmentSerializer
    filterset_class = filters.InvoiceAttachmentFilterSet


class CostSnapshotViewSet(RobustViewSetMixin, SparseFieldsViewSetMixin, ReadOnlyModelViewSet):
    """Cost snapshots: list and retrieve only. The snapshot Job is their only writer, so every write answers 405."""

    queryset = models.CostSnapshot.objects.all()
    serializer_class = serializers.CostSnapshotSerializer
    filterset_class = filters.CostSnapshotFilterSet


class BudgetViewSet(ContractsModelViewSet):
    """Budgets, with actual, committed, remaining and used_pct computed as of today (two queries per page)."""

    queryset = models.Budget.objects.select_related("tenant")
    serializer_class = serializers.BudgetSerializer
    filterset_class = filters.BudgetFilterSet


class ExchangeRateViewSet(ContractsModelViewSet):
    """Exchange rates."""

    queryset = models.ExchangeRate.objects.all()
    serializer_class = serializers.ExchangeRateSerializer
    filterset_class = filters.ExchangeRateFilterSet


class ContractAlertViewSet(ContractsModelViewSet):
    """Contract alerts: list, retrieve and PATCH (state, ack_comment, snoozed_until).

    The Jobs raise and resolve them, so POST, PUT and DELETE answer 405.
    """

    http_method_names = ["get", "patch", "head", "options"]
    queryset = models.ContractAlert.objects.select_related(
        "contract__provider", "contract__status", "invoice", "acknowledged_by"
    )
    serializer_class = serializers.ContractAlertSerializer
    filterset_class = filters.ContractAlertFilterSet
