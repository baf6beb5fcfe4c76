"""Filter sets, one `<Model>FilterSet` per model; the UI, REST API and GraphQL all use these."""

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
import django_filters
from nautobot.apps.filters import (
    BaseFilterSet,
    ContentTypeFilter,
    MultiValueCharFilter,
    MultiValueUUIDFilter,
    NaturalKeyOrPKMultipleChoiceFilter,
    NautobotFilterSet,
    RelatedMembershipBooleanFilter,
    SearchFilter,
    StatusModelFilterSetMixin,
    TenancyModelFilterSetMixin,
)
from nautobot.circuits.models import Circuit, Provider
from nautobot.dcim.models import Device, Location, Rack
from nautobot.tenancy.models import Tenant, TenantGroup
from nautobot.virtualization.models import Cluster, VirtualMachine

from nautobot_contracts.choices import BillingPeriodChoices, ContractTypeChoices
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


def _date_part_filters(field_name):
    """`<field>__year` and `<field>__month` filters, e.g. ?end_date__year=2026&end_date__month=5."""
    return {
        f"{field_name}__year": django_filters.NumberFilter(field_name=field_name, lookup_expr="year"),
        f"{field_name}__month": django_filters.NumberFilter(field_name=field_name, lookup_expr="month"),
    }


class CurrencyFilter(MultiValueCharFilter):
    """Currency code, case-insensitive on input (codes are stored upper-case)."""

    def filter(self, qs, value):
        """Upper-case each value before the exact match."""
        return super().filter(qs, [v.strip().upper() for v in value] if value else value)


class AssignedObjectFilter(MultiValueCharFilter):
    """Assignments whose target is one of the given objects of `model`, by natural name or by id."""

    def __init__(self, model, to_field_name="name", **kwargs):
        """Remember the target model and the field its names are matched on."""
        self.target_model = model
        self.to_field_name = to_field_name
        kwargs.setdefault("label", f"{model._meta.verbose_name.capitalize()} ({to_field_name} or ID)")
        super().__init__(**kwargs)

    def filter(self, qs, value):
        """Resolve names and ids to pks in one subquery, then match the generic relation."""
        if not value:
            return qs
        ids, names = [], []
        for item in value:
            try:
                ids.append(uuid.UUID(str(item)))
            except ValueError:
                names.append(item)
        targets = self.target_model.objects.filter(Q(pk__in=ids) | Q(**{f"{self.to_field_name}__in": names}))
        return qs.filter(
            assigned_object_type=ContentType.objects.get_for_model(self.target_model),
            assigned_object_id__in=targets.values("pk"),
        )


class ServiceProviderFilterSet(NautobotFilterSet):
    """Filters for service providers."""

    q = SearchFilter(
        filter_predicates={
            "name": "icontains",
            "account_number": "icontains",
            "support_email": "icontains",
            "description": "icontains",
            "comments": "icontains",
        }
    )
    circuit_provider = NaturalKeyOrPKMultipleChoiceFilter(queryset=Provider.objects.all(), to_field_name="name")
    has_contracts = RelatedMembershipBooleanFilter(field_name="contracts", label="Has contracts")

    class Meta:
        model = ServiceProvider
        fields = [
            "id", "name", "account_number", "portal_url", "support_email", "support_phone", "description", "tags",
        ]  # fmt: skip


class ContractFilterSet(NautobotFilterSet, StatusModelFilterSetMixin, TenancyModelFilterSetMixin):
    """Filters for contracts, including date parts such as ?end_date__year=2026&end_date__month=5."""

    q = SearchFilter(
        filter_predicates={
            "name": "icontains",
            "contract_number": "icontains",
            "provider__name": "icontains",
            "purchase_order": "icontains",
            "cost_center": "icontains",
            "description": "icontains",
            "comments": "icontains",
        }
    )
    provider = NaturalKeyOrPKMultipleChoiceFilter(queryset=ServiceProvider.objects.all(), to_field_name="name")
    contract_type = django_filters.MultipleChoiceFilter(choices=ContractTypeChoices)
    billing_period = django_filters.MultipleChoiceFilter(choices=BillingPeriodChoices)
    currency = CurrencyFilter()
    has_invoices = RelatedMembershipBooleanFilter(field_name="invoices", label="Has invoices")
    has_assignments = RelatedMembershipBooleanFilter(field_name="assignments", label="Has assignments")
    locals().update(_date_part_filters("start_date"))
    locals().update(_date_part_filters("end_date"))

    class Meta:
        model = Contract
        fields = [
            "id", "name", "contract_number", "start_date", "end_date", "recurring_cost", "one_time_cost",
            "auto_renew", "notice_period_days", "renewal_term_months", "cost_center", "purchase_order",
            "description", "tags",
        ]  # fmt: skip


class InvoiceFilterSet(NautobotFilterSet, StatusModelFilterSetMixin):
    """Filters for invoices."""

    q = SearchFilter(
        filter_predicates={
            "invoice_number": "icontains",
            "contract__name": "icontains",
            "contract__provider__name": "icontains",
            "description": "icontains",
        }
    )
    contract = NaturalKeyOrPKMultipleChoiceFilter(queryset=Contract.objects.all(), to_field_name="name")
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="contract__provider", queryset=ServiceProvider.objects.all(), to_field_name="name"
    )
    currency = CurrencyFilter()
    locals().update(_date_part_filters("invoice_date"))

    class Meta:
        model = Invoice
        fields = [
            "id", "invoice_number", "invoice_date", "due_date", "period_start", "period_end", "amount", "paid_date",
            "description", "tags",
        ]  # fmt: skip


class ContractAssignmentFilterSet(NautobotFilterSet):
    """Filters for assignments: by contract, by the assigned object's type and id, or by the object itself."""

    q = SearchFilter(filter_predicates={"contract__name": "icontains", "comments": "icontains"})
    contract = NaturalKeyOrPKMultipleChoiceFilter(queryset=Contract.objects.all(), to_field_name="name")
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="contract__provider", queryset=ServiceProvider.objects.all(), to_field_name="name"
    )
    assigned_object_type = ContentTypeFilter()
    assigned_object_id = MultiValueUUIDFilter()
    device = AssignedObjectFilter(Device)
    rack = AssignedObjectFilter(Rack)
    location = AssignedObjectFilter(Location)
    location__name = AssignedObjectFilter(Location, label="Location (name)")
    circuit = AssignedObjectFilter(Circuit, to_field_name="cid")
    virtual_machine = AssignedObjectFilter(VirtualMachine)
    cluster = AssignedObjectFilter(Cluster)
    tenant = AssignedObjectFilter(Tenant)
    tenant_group = AssignedObjectFilter(TenantGroup)

    class Meta:
        model = ContractAssignment
        fields = ["id", "coverage_start", "coverage_end", "tags"]


class ContractAttachmentFilterSet(NautobotFilterSet):
    """Filters for contract attachments."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    contract = NaturalKeyOrPKMultipleChoiceFilter(queryset=Contract.objects.all(), to_field_name="name")

    class Meta:
        model = ContractAttachment
        fields = ["id", "name", "description", "mime_type", "sha256", "tags"]


class InvoiceAttachmentFilterSet(NautobotFilterSet):
    """Filters for invoice attachments."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    invoice = NaturalKeyOrPKMultipleChoiceFilter(queryset=Invoice.objects.all(), to_field_name="invoice_number")

    class Meta:
        model = InvoiceAttachment
        fields = ["id", "name", "description", "mime_type", "sha256", "tags"]


class CostSnapshotFilterSet(BaseFilterSet):  # a BaseModel: no created/last_updated, custom fields or relationships
    """Filters for cost snapshots: date ranges (?snapshot_date__gte=...) and currency."""

    q = SearchFilter(filter_predicates={"currency": "iexact"})
    currency = CurrencyFilter()

    class Meta:
        model = CostSnapshot
        fields = ["id", "snapshot_date", "monthly_burn", "renewal_90d", "active_contract_count", "coverage_gap_count"]


class ExchangeRateFilterSet(NautobotFilterSet):
    """Filters for exchange rates."""

    q = SearchFilter(filter_predicates={"currency": "iexact", "description": "icontains"})
    currency = CurrencyFilter()

    class Meta:
        model = ExchangeRate
        fields = ["id", "rate", "effective_date", "description", "tags"]
