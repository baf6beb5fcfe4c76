"""REST API viewsets."""

from nautobot.apps.api import NautobotModelViewSet

from nautobot_contracts import filters, models
from nautobot_contracts.api import serializers


class ServiceProviderViewSet(NautobotModelViewSet):
    """Service providers."""

    queryset = models.ServiceProvider.objects.all()
    serializer_class = serializers.ServiceProviderSerializer
    filterset_class = filters.ServiceProviderFilterSet


class ContractViewSet(NautobotModelViewSet):
    """Contracts."""

    queryset = models.Contract.objects.all()
    serializer_class = serializers.ContractSerializer
    filterset_class = filters.ContractFilterSet


class InvoiceViewSet(NautobotModelViewSet):
    """Invoices."""

    queryset = models.Invoice.objects.all()
    serializer_class = serializers.InvoiceSerializer
    filterset_class = filters.InvoiceFilterSet


class ContractAssignmentViewSet(NautobotModelViewSet):
    """Contract assignments."""

    queryset = models.ContractAssignment.objects.all()
    serializer_class = serializers.ContractAssignmentSerializer
    filterset_class = filters.ContractAssignmentFilterSet


class ContractAttachmentViewSet(NautobotModelViewSet):
    """Contract attachments."""

    queryset = models.ContractAttachment.objects.all()
    serializer_class = serializers.ContractAttachmentSerializer
    filterset_class = filters.ContractAttachmentFilterSet


class InvoiceAttachmentViewSet(NautobotModelViewSet):
    """Invoice attachments."""

    queryset = models.InvoiceAttachment.objects.all()
    serializer_class = serializers.InvoiceAttachmentSerializer
    filterset_class = filters.InvoiceAttachmentFilterSet


class CostSnapshotViewSet(NautobotModelViewSet):
    """Cost snapshots (to be made read-only)."""

    queryset = models.CostSnapshot.objects.all()
    serializer_class = serializers.CostSnapshotSerializer
    filterset_class = filters.CostSnapshotFilterSet


class ExchangeRateViewSet(NautobotModelViewSet):
    """Exchange rates."""

    queryset = models.ExchangeRate.objects.all()
    serializer_class = serializers.ExchangeRateSerializer
    filterset_class = filters.ExchangeRateFilterSet
