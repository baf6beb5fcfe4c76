"""UI views: a NautobotUIViewSet per model (list + detail only for cost snapshots) and the attachment downloads.

CSV imports on the `<model>/import/` pages go through `csv_import` (all or nothing, every bad line reported).
"""

from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404
from nautobot.apps.views import (
    GenericView,
    NautobotUIViewSet,
    ObjectBulkUpdateViewMixin,
    ObjectChangeLogViewMixin,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
    ObjectNotesViewMixin,
)

from nautobot_contracts import filters, forms, tables, ui
from nautobot_contracts.api import serializers
from nautobot_contracts.bulk_edit import BulkEditRefusalsViewMixin
from nautobot_contracts.csv_import import CSVImportViewMixin
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
from nautobot_contracts.models.attachments import content_type_for


class ServiceProviderUIViewSet(BulkEditRefusalsViewMixin, CSVImportViewMixin, NautobotUIViewSet):
    """Service providers."""

    queryset = ServiceProvider.objects.select_related("circuit_provider")
    filterset_class = filters.ServiceProviderFilterSet
    filterset_form_class = forms.ServiceProviderFilterForm
    form_class = forms.ServiceProviderForm
    bulk_update_form_class = forms.ServiceProviderBulkEditForm
    serializer_class = serializers.ServiceProviderSerializer
    table_class = tables.ServiceProviderTable
    object_detail_content = ui.service_provider_content


class ContractUIViewSet(BulkEditRefusalsViewMixin, CSVImportViewMixin, NautobotUIViewSet):
    """Contracts; the detail page shows the computed costs and renewal dates."""

    queryset = Contract.objects.select_related("provider", "status", "tenant")
    filterset_class = filters.ContractFilterSet
    filterset_form_class = forms.ContractFilterForm
    form_class = forms.ContractForm
    bulk_update_form_class = forms.ContractBulkEditForm
    serializer_class = serializers.ContractSerializer
    table_class = tables.ContractTable
    object_detail_content = ui.contract_content


class InvoiceUIViewSet(BulkEditRefusalsViewMixin, CSVImportViewMixin, NautobotUIViewSet):
    """Invoices."""

    queryset = Invoice.objects.select_related("contract__provider", "status")
    filterset_class = filters.InvoiceFilterSet
    filterset_form_class = forms.InvoiceFilterForm
    form_class = forms.InvoiceForm
    bulk_update_form_class = forms.InvoiceBulkEditForm
    serializer_class = serializers.InvoiceSerializer
    table_class = tables.InvoiceTable
    object_detail_content = ui.invoice_content


class ContractAssignmentUIViewSet(BulkEditRefusalsViewMixin, CSVImportViewMixin, NautobotUIViewSet):
    """Assignments; the generic target is prefetched once per object type."""

    queryset = ContractAssignment.objects.select_related("contract__provider", "assigned_object_type").prefetch_related(
        "assigned_object"
    )
    filterset_class = filters.ContractAssignmentFilterSet
    filterset_form_class = forms.ContractAssignmentFilterForm
    form_class = forms.ContractAssignmentForm
    bulk_update_form_class = forms.ContractAssignmentBulkEditForm
    serializer_class = serializers.ContractAssignmentSerializer
    table_class = tables.ContractAssignmentTable
    object_detail_content = ui.contract_assignment_content


class ContractAttachmentUIViewSet(BulkEditRefusalsViewMixin, NautobotUIViewSet):
    """Files stored against contracts."""

    # A file cannot travel in CSV, so no import button (uploads go through the add form).
    action_buttons = ("add", "export")
    queryset = ContractAttachment.objects.select_related("contract")
    filterset_class = filters.ContractAttachmentFilterSet
    filterset_form_class = forms.ContractAttachmentFilterForm
    form_class = forms.ContractAttachmentForm
    bulk_update_form_class = forms.ContractAttachmentBulkEditForm
    serializer_class = serializers.ContractAttachmentSerializer
    table_class = tables.ContractAttachmentTable
    object_detail_content = ui.contract_attachment_content


class InvoiceAttachmentUIViewSet(BulkEditRefusalsViewMixin, NautobotUIViewSet):
    """Files stored against invoices."""

    # A file cannot travel in CSV, so no import button (uploads go through the add form).
    action_buttons = ("add", "export")
    queryset = InvoiceAttachment.objects.select_related("invoice")
    filterset_class = filters.InvoiceAttachmentFilterSet
    filterset_form_class = forms.InvoiceAttachmentFilterForm
    form_class = forms.InvoiceAttachmentForm
    bulk_update_form_class = forms.InvoiceAttachmentBulkEditForm
    serializer_class = serializers.InvoiceAttachmentSerializer
    table_class = tables.InvoiceAttachmentTable
    object_detail_content = ui.invoice_attachment_content


class ExchangeRateUIViewSet(BulkEditRefusalsViewMixin, CSVImportViewMixin, NautobotUIViewSet):
    """Exchange rates into the reporting currency."""

    queryset = ExchangeRate.objects.all()
    filterset_class = filters.ExchangeRateFilterSet
    filterset_form_class = forms.ExchangeRateFilterForm
    form_class = forms.ExchangeRateForm
    bulk_update_form_class = forms.ExchangeRateBulkEditForm
    serializer_class = serializers.ExchangeRateSerializer
    table_class = tables.ExchangeRateTable
    object_detail_content = ui.exchange_rate_content


class BudgetUIViewSet(BulkEditRefusalsViewMixin, CSVImportViewMixin, NautobotUIViewSet):
    """Budgets; the detail page shows actual, committed and remaining with a chart per fiscal month."""

    queryset = Budget.objects.select_related("tenant")
    filterset_class = filters.BudgetFilterSet
    filterset_form_class = forms.BudgetFilterForm
    form_class = forms.BudgetForm
    bulk_update_form_class = forms.BudgetBulkEditForm
    serializer_class = serializers.BudgetSerializer
    table_class = tables.BudgetTable
    object_detail_content = ui.budget_content


class CostSnapshotUIViewSet(ObjectListViewMixin, ObjectDetailViewMixin, ObjectChangeLogViewMixin):
    """Cost history, written only by the snapshot Job: list and detail, no add/edit/delete/import routes."""

    queryset = CostSnapshot.objects.all()
    action_buttons = ("export",)
    # Only UUIDs reach the detail route, so /cost-snapshots/add/ and the like are plain 404s.
    lookup_value_regex = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    filterset_class = filters.CostSnapshotFilterSet
    filterset_form_class = forms.CostSnapshotFilterForm
    serializer_class = serializers.CostSnapshotSerializer
    table_class = tables.CostSnapshotTable
    object_detail_content = ui.cost_snapshot_content


class ContractAlertUIViewSet(
    BulkEditRefusalsViewMixin,
    ObjectListViewMixin,
    ObjectDetailViewMixin,
    ObjectBulkUpdateViewMixin,
    ObjectChangeLogViewMixin,
    ObjectNotesViewMixin,
):
    """Alerts, raised and resolved by the Jobs: list, detail, and a bulk edit that acknowledges or snoozes.

    The list opens on "needs action"; there are no add, edit, delete or import routes. A bulk edit refused for any
    selected alert (a resolved one, a snooze into the past) names each refused alert and changes none.
    """

    queryset = ContractAlert.objects.select_related("contract__provider", "invoice", "acknowledged_by")
    action_buttons = ("export",)
    lookup_value_regex = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    filterset_class = filters.ContractAlertFilterSet
    filterset_form_class = forms.ContractAlertFilterForm
    bulk_update_form_class = forms.ContractAlertBulkEditForm
    serializer_class = serializers.ContractAlertSerializer
    table_class = tables.ContractAlertTable
    object_detail_content = ui.contract_alert_content

    def get_filter_params(self, request):
        """With no filter (and no saved view, and not "remove all filters"), the list shows what needs action."""
        params = super().get_filter_params(request)
        untouched = not params and not request.GET.get("saved_view") and not request.GET.get("all_filters_removed")
        if self.action == "list" and untouched:
            params = QueryDict(mutable=True)
            params["needs_action"] = "True"
        return params


class AttachmentDownloadView(GenericView):
    """Stream an attachment's file to a user who may view the attachment and its contract or invoice; else 404.

    This is the only way out for stored files: they live in the app's private storage, not under MEDIA_ROOT.
    """

    model = None

    def get(self, request, pk):
        """Send the file as a download under its stored name."""
        attachment = get_object_or_404(self.model.objects.restrict(request.user, "view"), pk=pk)
        if not attachment.file:
            raise Http404("This attachment has no file.")
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as error:
            raise Http404("The stored file is missing.") from error
        # The type follows the file's extension (its content was checked against it on upload), never a client's
        # claim; nosniff stops a browser from second-guessing it.
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.filename,
            content_type=content_type_for(attachment.filename),
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ContractAttachmentDownloadView(AttachmentDownloadView):
    """Download a contract attachment's file."""

    model = ContractAttachment


class InvoiceAttachmentDownloadView(AttachmentDownloadView):
    """Download an invoice attachment's file."""

    model = InvoiceAttachment
