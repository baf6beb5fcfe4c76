"""REST serializers. Computed figures (monthly cost, notice deadline, tier) come from the service layer."""

from django.contrib.contenttypes.models import ContentType
from nautobot.apps.api import ContentTypeField, NautobotModelSerializer, TaggedModelSerializerMixin

from nautobot_contracts.app_settings import assignable_content_types_q
from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    ContractAttachment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)


class ServiceProviderSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """Service provider."""

    class Meta:
        model = ServiceProvider
        fields = "__all__"


class ContractSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """Contract."""

    class Meta:
        model = Contract
        fields = "__all__"


class InvoiceSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """Invoice."""

    class Meta:
        model = Invoice
        fields = "__all__"


class ContractAssignmentSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """Assignment of a contract to a Nautobot object."""

    assigned_object_type = ContentTypeField(queryset=ContentType.objects.filter(assignable_content_types_q()))

    class Meta:
        model = ContractAssignment
        fields = "__all__"


class ContractAttachmentSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """File stored against a contract."""

    class Meta:
        model = ContractAttachment
        fields = "__all__"


class InvoiceAttachmentSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """File stored against an invoice."""

    class Meta:
        model = InvoiceAttachment
        fields = "__all__"


class CostSnapshotSerializer(NautobotModelSerializer):
    """Cost snapshot (read-only through the API)."""

    class Meta:
        model = CostSnapshot
        fields = "__all__"


class ExchangeRateSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """Exchange rate into the reporting currency."""

    class Meta:
        model = ExchangeRate
        fields = "__all__"
