"""Filter sets, one `<Model>FilterSet` per model; the UI, REST API and GraphQL all use these."""

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
import django_filters
from nautobot.apps.filters import (
    BaseFilterSet,
    ContentTypeFilter,
    MultiValueCharFilter,
    MultiValueDateFilter,
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

from nautobot_contracts import clock
from nautobot_contracts.choices import (
    AlertKindChoices,
    AlertSeverityChoices,
    AlertStateChoices,
    BillingPeriodChoices,
    ContractTypeChoices,
    EntitlementUnitChoices,
)
from nautobot_contracts.compat import change_context_state
from nautobot_contracts.filter_inputs import ContractsFilterSetMixin
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
from nautobot_contracts.services import billing, entitlements, terms
from nautobot_contracts.services.invoices import overdue_q


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


class BillingStateFilter(django_filters.MultipleChoiceFilter):
    """Contracts with at least one billing period (started by today) in one of the given states."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", [(state, state.capitalize()) for state in billing.STATES])
        kwargs.setdefault("label", "Billing state (has a period that is ...)")
        super().__init__(**kwargs)

    def filter(self, qs, value):
        """Two queries over the contracts of `qs` (services.billing), then a pk filter."""
        if not value:
            return qs
        return qs.filter(
            billing.contracts_in_state_q(value, clock.today(), user=requesting_user(self.parent), queryset=qs)
        )


class InvoiceVarianceFilter(django_filters.MultipleChoiceFilter):
    """Invoices counted in a billing period that is ok, over- or under-billed (as of today)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", [(state, state.capitalize()) for state in billing.VARIANCE_STATES])
        kwargs.setdefault("label", "Variance of the billing period")
        super().__init__(**kwargs)

    def filter(self, qs, value):
        """Two queries over the contracts of the invoices of `qs` (services.billing), then a pk filter."""
        if not value:
            return qs
        contracts = Contract.objects.filter(pk__in=qs.values("contract_id"))
        return qs.filter(
            billing.invoices_in_state_q(value, clock.today(), user=requesting_user(self.parent), contracts=contracts)
        )


def requesting_user(filterset):
    """The user whose request is being filtered, or None for an internal call.

    REST passes the request to the filter set; Nautobot's UI list views do not, so fall back on the change context
    Nautobot's middleware (and Job runner) set for the request being served (nautobot.extras.signals; not in
    nautobot.apps, see compat.change_context_state).
    """
    request = getattr(filterset, "request", None)
    if request is not None and getattr(request, "user", None) is not None:
        return request.user
    change_context = change_context_state.get()
    if change_context is None:
        return None
    if change_context.request is not None:
        return change_context.request.user
    return change_context.user


class OverQuotaFilter(django_filters.BooleanFilter):
    """true: contracts using more than their entitlement today; false: all others, those without one included.

    Counts only what the requesting user may view (services.entitlements.over_quota_q: one subquery).
    """

    def filter(self, qs, value):
        """Narrow `qs` to the contracts over (or not over) quota today."""
        if value is None:
            return qs
        condition = entitlements.over_quota_q(clock.today(), user=requesting_user(self.parent), queryset=qs)
        return qs.filter(condition) if value else qs.exclude(condition)


class OverdueFilter(django_filters.BooleanFilter):
    """Open invoices past their due date today (services.invoices.overdue_q); false: every other invoice."""

    def filter(self, qs, value):
        """The overdue rule as SQL."""
        if value is None:
            return qs
        rule = overdue_q(clock.today())
        return qs.filter(rule) if value else qs.exclude(rule)


class ServiceProviderFilterSet(ContractsFilterSetMixin, NautobotFilterSet):
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


# The renewal tiers a contract can be filtered on; "none": not in force, or no deadline inside the window.
RENEWAL_TIER_NONE = "none"
RENEWAL_TIER_CHOICES = (
    *((tier, tier.capitalize()) for tier in terms.TIERS),
    (RENEWAL_TIER_NONE, "None (not due, or not in force)"),
)
# Query aliases of the computed term figures (prefixed so they never shadow a model field).
TERM_END_ALIAS = "computed_current_term_end"
TIER_ALIAS = "computed_renewal_tier"


def _term_end_filter(filter_class, lookup_expr, label):
    return filter_class(method="filter_current_term_end", lookup_expr=lookup_expr, label=label)


class ContractFilterSet(
    ContractsFilterSetMixin, NautobotFilterSet, StatusModelFilterSetMixin, TenancyModelFilterSetMixin
):
    """Filters for contracts, including date parts such as ?end_date__year=2026&end_date__month=5.

    `current_term_end` (with __gte, __lte, __year, __month) and `renewal_tier` filter on the figures
    services.terms computes as of today, in SQL (`terms.term_figures_expressions`): an auto-renewing contract whose
    end date has passed is found by the end of the term it rolled into (docs/models/contract.md).
    """

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
    billing_state = BillingStateFilter()
    unit = django_filters.MultipleChoiceFilter(choices=EntitlementUnitChoices, label="Entitlement unit")
    over_quota = OverQuotaFilter(label="Over quota (uses more than its entitlement today)")
    locals().update(_date_part_filters("start_date"))
    locals().update(_date_part_filters("end_date"))
    current_term_end = _term_end_filter(MultiValueDateFilter, "in", "Current term end (as of today)")
    current_term_end__gte = _term_end_filter(django_filters.DateFilter, "gte", "Current term end on or after")
    current_term_end__lte = _term_end_filter(django_filters.DateFilter, "lte", "Current term end on or before")
    current_term_end__year = _term_end_filter(django_filters.NumberFilter, "year", "Current term end year")
    current_term_end__month = _term_end_filter(django_filters.NumberFilter, "month", "Current term end month")
    renewal_tier = django_filters.MultipleChoiceFilter(
        choices=RENEWAL_TIER_CHOICES, method="filter_renewal_tier", label="Renewal tier (as of today)"
    )

    class Meta:
        model = Contract
        fields = [
            "id", "name", "contract_number", "start_date", "end_date", "recurring_cost", "one_time_cost",
            "auto_renew", "notice_period_days", "renewal_term_months", "cost_center", "quantity", "purchase_order",
            "description", "tags",
        ]  # fmt: skip

    def with_term_figures(self, queryset):
        """The queryset with the term end and tier as of today aliased (once, whatever the number of filters)."""
        if TERM_END_ALIAS in queryset.query.annotations:
            return queryset
        if not hasattr(self, "_as_of"):
            self._as_of = clock.today()  # one date for every filter of this request
        figures = terms.term_figures_expressions(self._as_of)
        return queryset.alias(**{TERM_END_ALIAS: figures["current_term_end"], TIER_ALIAS: figures["renewal_tier"]})

    def filter_current_term_end(self, queryset, name, value):
        """current_term_end[__gte|__lte|__year|__month]: the term end as services.terms computes it today."""
        if value in (None, "") or (isinstance(value, (list, tuple)) and not value):
            return queryset
        lookup = self.filters[name].lookup_expr
        return self.with_term_figures(queryset).filter(**{f"{TERM_END_ALIAS}__{lookup}": value})

    def filter_renewal_tier(self, queryset, name, value):
        """renewal_tier=missed|urgent|soon|upcoming|none (several are ORed), as the renewal check ranks today."""
        if not value:
            return queryset
        tiers = [tier for tier in value if tier != RENEWAL_TIER_NONE]
        condition = Q(**{f"{TIER_ALIAS}__in": tiers})
        if RENEWAL_TIER_NONE in value:
            condition |= Q(**{f"{TIER_ALIAS}__isnull": True})
        return self.with_term_figures(queryset).filter(condition)


class InvoiceFilterSet(ContractsFilterSetMixin, NautobotFilterSet, StatusModelFilterSetMixin):
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
    overdue = OverdueFilter(label="Overdue (Open and past its due date today)")
    variance = InvoiceVarianceFilter()
    locals().update(_date_part_filters("invoice_date"))

    class Meta:
        model = Invoice
        fields = [
            "id", "invoice_number", "invoice_date", "due_date", "period_start", "period_end", "amount", "paid_date",
            "description", "tags",
        ]  # fmt: skip


class ContractAssignmentFilterSet(ContractsFilterSetMixin, NautobotFilterSet):
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
        fields = ["id", "coverage_start", "coverage_end", "allocation_weight", "quantity", "tags"]


class ContractAttachmentFilterSet(ContractsFilterSetMixin, NautobotFilterSet):
    """Filters for contract attachments."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    contract = NaturalKeyOrPKMultipleChoiceFilter(queryset=Contract.objects.all(), to_field_name="name")

    class Meta:
        model = ContractAttachment
        fields = ["id", "name", "description", "mime_type", "sha256", "tags"]


class InvoiceAttachmentFilterSet(ContractsFilterSetMixin, NautobotFilterSet):
    """Filters for invoice attachments."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    invoice = NaturalKeyOrPKMultipleChoiceFilter(queryset=Invoice.objects.all(), to_field_name="invoice_number")

    class Meta:
        model = InvoiceAttachment
        fields = ["id", "name", "description", "mime_type", "sha256", "tags"]


class CostSnapshotFilterSet(
    ContractsFilterSetMixin, BaseFilterSet
):  # a BaseModel: no created/last_updated, custom fields or relationships
    """Filters for cost snapshots: date ranges (?snapshot_date__gte=...) and currency."""

    q = SearchFilter(filter_predicates={"currency": "iexact"})
    currency = CurrencyFilter()

    class Meta:
        model = CostSnapshot
        fields = ["id", "snapshot_date", "monthly_burn", "renewal_90d", "active_contract_count", "coverage_gap_count"]


class ExchangeRateFilterSet(ContractsFilterSetMixin, NautobotFilterSet):
    """Filters for exchange rates."""

    q = SearchFilter(filter_predicates={"currency": "iexact", "description": "icontains"})
    currency = CurrencyFilter()

    class Meta:
        model = ExchangeRate
        fields = ["id", "rate", "effective_date", "description", "tags"]


class ContractAlertFilterSet(ContractsFilterSetMixin, NautobotFilterSet):
    """Filters for contract alerts: kind, severity, state, contract, provider, invoice, due date ranges.

    Date ranges as ?due_date__gte=...; needs_action: open and not snoozed on today's date.
    """

    q = SearchFilter(
        filter_predicates={
            "message": "icontains",
            "contract__name": "icontains",
            "contract__provider__name": "icontains",
            "invoice__invoice_number": "icontains",
            "currency": "iexact",
        }
    )
    kind = django_filters.MultipleChoiceFilter(choices=AlertKindChoices)
    severity = django_filters.MultipleChoiceFilter(choices=AlertSeverityChoices)
    state = django_filters.MultipleChoiceFilter(choices=AlertStateChoices)
    notified_severity = django_filters.MultipleChoiceFilter(choices=AlertSeverityChoices)
    contract = NaturalKeyOrPKMultipleChoiceFilter(queryset=Contract.objects.all(), to_field_name="name")
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="contract__provider", queryset=ServiceProvider.objects.all(), to_field_name="name"
    )
    invoice = NaturalKeyOrPKMultipleChoiceFilter(queryset=Invoice.objects.all(), to_field_name="invoice_number")
    currency = CurrencyFilter()
    needs_action = django_filters.BooleanFilter(
        method="filter_needs_action", label="Needs action (open and not snoozed)"
    )
    snoozed = django_filters.BooleanFilter(method="filter_snoozed", label="Snoozed (until a later date)")

    class Meta:
        model = ContractAlert
        fields = [
            "id", "metric", "occasion", "due_date", "message", "first_seen", "last_seen", "acknowledged_by",
            "acknowledged_at", "snoozed_until", "resolved_at", "notified_at", "tags",
        ]  # fmt: skip

    def filter_needs_action(self, queryset, name, value):
        """Open and not snoozed on today's date (true), or the others (false)."""
        from nautobot_contracts.services.alerts import needs_action_q  # pylint: disable=import-outside-toplevel

        if value is None:
            return queryset
        condition = needs_action_q(clock.today())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_snoozed(self, queryset, name, value):
        """snoozed_until after today (true), or not (false)."""
        if value is None:
            return queryset
        condition = Q(snoozed_until__gt=clock.today())
        return queryset.filter(condition) if value else queryset.exclude(condition)


class BudgetFilterSet(ContractsFilterSetMixin, NautobotFilterSet, TenancyModelFilterSetMixin):
    """Filters for budgets."""

    q = SearchFilter(filter_predicates={"name": "icontains", "cost_center": "icontains", "description": "icontains"})
    currency = CurrencyFilter()

    class Meta:
        model = Budget
        fields = ["id", "name", "fiscal_year", "amount", "cost_center", "description", "tags"]
