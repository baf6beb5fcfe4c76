"""Forms for the UI: a model form, a bulk-edit form and a filter form per model."""

from django import forms
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.forms import (
    BulkEditNullBooleanSelect,
    CommentField,
    DatePicker,
    DynamicModelChoiceField,
    DynamicModelMultipleChoiceField,
    NautobotBulkEditForm,
    NautobotFilterForm,
    NautobotModelForm,
    SmallTextarea,
    StaticSelect2,
    StaticSelect2Multiple,
    StatusModelBulkEditFormMixin,
    StatusModelFilterFormMixin,
    TagFilterField,
    TagsBulkEditFormMixin,
    add_blank_choice,
)
from nautobot.circuits.models import Provider
from nautobot.tenancy.models import Tenant, TenantGroup

from nautobot_contracts.app_settings import assignable_content_types_q, assignable_model_labels
from nautobot_contracts.choices import (
    AlertKindChoices,
    AlertSeverityChoices,
    AlertStateChoices,
    BillingPeriodChoices,
    ContractTypeChoices,
    EntitlementUnitChoices,
)
from nautobot_contracts.currencies import currency_choices
from nautobot_contracts.filters import RENEWAL_TIER_CHOICES
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
from nautobot_contracts.models.attachments import default_attachment_name
from nautobot_contracts.models.money import (
    ALLOCATION_WEIGHT_DECIMAL_PLACES,
    ALLOCATION_WEIGHT_MAX,
    ALLOCATION_WEIGHT_MAX_DIGITS,
    ALLOCATION_WEIGHT_MIN,
    NOTICE_DAYS_MAX,
    QUANTITY_MAX,
    QUANTITY_MIN,
    RENEWAL_TERM_MONTHS_MAX,
    RENEWAL_TERM_MONTHS_MIN,
)

BOOLEAN_FILTER_CHOICES = (("", "---------"), ("True", "Yes"), ("False", "No"))


def quantity_field(**kwargs):
    """An optional whole number within the bounds of an entitlement or assignment quantity."""
    return forms.IntegerField(required=False, min_value=QUANTITY_MIN, max_value=QUANTITY_MAX, **kwargs)


def allocation_weight_field(**kwargs):
    """An optional allocation weight within the model's bounds."""
    return forms.DecimalField(
        required=False,
        min_value=ALLOCATION_WEIGHT_MIN,
        max_value=ALLOCATION_WEIGHT_MAX,
        max_digits=ALLOCATION_WEIGHT_MAX_DIGITS,
        decimal_places=ALLOCATION_WEIGHT_DECIMAL_PLACES,
        **kwargs,
    )


def currency_field(required=True, **kwargs):
    """A select of ISO 4217 codes; the model field still validates and upper-cases whatever arrives."""
    choices = currency_choices() if required else add_blank_choice(currency_choices())
    return forms.ChoiceField(choices=choices, required=required, widget=StaticSelect2(), **kwargs)


def currency_filter_field():
    """A multi-select of ISO 4217 codes for filter forms."""
    return forms.MultipleChoiceField(
        choices=currency_choices(), required=False, widget=StaticSelect2Multiple(), label="Currency"
    )


#
# Service providers
#


class ServiceProviderForm(NautobotModelForm):
    """Create or edit a service provider."""

    circuit_provider = DynamicModelChoiceField(queryset=Provider.objects.all(), required=False)
    comments = CommentField()

    class Meta:
        model = ServiceProvider
        fields = [
            "name", "account_number", "portal_url", "support_email", "support_phone", "circuit_provider",
            "description", "comments", "tags",
        ]  # fmt: skip


class ServiceProviderBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several service providers at once."""

    pk = forms.ModelMultipleChoiceField(queryset=ServiceProvider.objects.all(), widget=forms.MultipleHiddenInput)
    account_number = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)
    portal_url = forms.URLField(required=False, label="Portal URL")
    support_email = forms.EmailField(required=False)
    support_phone = forms.CharField(max_length=50, required=False)
    circuit_provider = DynamicModelChoiceField(queryset=Provider.objects.all(), required=False)
    description = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)
    comments = CommentField(widget=SmallTextarea, label="Comments")

    class Meta:
        nullable_fields = [
            "account_number", "portal_url", "support_email", "support_phone", "circuit_provider", "description",
            "comments",
        ]  # fmt: skip


class ServiceProviderFilterForm(NautobotFilterForm):
    """Filter the service provider list."""

    model = ServiceProvider
    field_order = ["q", "circuit_provider", "has_contracts"]
    q = forms.CharField(required=False, label="Search")
    circuit_provider = DynamicModelMultipleChoiceField(
        queryset=Provider.objects.all(), to_field_name="name", required=False
    )
    has_contracts = forms.NullBooleanField(
        required=False, label="Has contracts", widget=StaticSelect2(choices=BOOLEAN_FILTER_CHOICES)
    )
    tags = TagFilterField(model)


#
# Contracts
#


class ContractForm(NautobotModelForm):
    """Create or edit a contract."""

    provider = DynamicModelChoiceField(queryset=ServiceProvider.objects.all())
    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)
    currency = currency_field(help_text="ISO 4217 currency code")
    comments = CommentField()

    class Meta:
        model = Contract
        fields = [
            "provider", "name", "contract_number", "status", "contract_type", "tenant",
            "start_date", "end_date", "auto_renew", "notice_period_days", "renewal_term_months", "alert_lead_days",
            "recurring_cost", "billing_period", "one_time_cost", "currency", "quantity", "unit",
            "cost_center", "purchase_order", "description", "comments", "tags",
        ]  # fmt: skip
        widgets = {
            "start_date": DatePicker(),
            "end_date": DatePicker(),
            "contract_type": StaticSelect2(),
            "billing_period": StaticSelect2(),
            "unit": StaticSelect2(),
        }
        labels = {"quantity": "Entitlement quantity", "unit": "Entitlement unit"}


class ContractBulkEditForm(TagsBulkEditFormMixin, StatusModelBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several contracts at once."""

    pk = forms.ModelMultipleChoiceField(queryset=Contract.objects.all(), widget=forms.MultipleHiddenInput)
    provider = DynamicModelChoiceField(queryset=ServiceProvider.objects.all(), required=False)
    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)
    contract_type = forms.ChoiceField(
        choices=add_blank_choice(ContractTypeChoices), required=False, widget=StaticSelect2()
    )
    start_date = forms.DateField(required=False, widget=DatePicker())
    end_date = forms.DateField(required=False, widget=DatePicker())
    billing_period = forms.ChoiceField(
        choices=add_blank_choice(BillingPeriodChoices), required=False, widget=StaticSelect2()
    )
    currency = currency_field(required=False)
    auto_renew = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect())
    notice_period_days = forms.IntegerField(required=False, min_value=0, max_value=NOTICE_DAYS_MAX)
    renewal_term_months = forms.IntegerField(
        required=False, min_value=RENEWAL_TERM_MONTHS_MIN, max_value=RENEWAL_TERM_MONTHS_MAX
    )
    cost_center = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)
    # Quantity and unit go together (the model refuses one without the other): set or clear both at once.
    quantity = quantity_field(label="Entitlement quantity")
    unit = forms.ChoiceField(
        choices=add_blank_choice(EntitlementUnitChoices),
        required=False,
        widget=StaticSelect2(),
        label="Entitlement unit",
    )
    purchase_order = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)
    description = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)
    comments = CommentField(widget=SmallTextarea, label="Comments")

    class Meta:
        nullable_fields = [
            "tenant", "notice_period_days", "cost_center", "quantity", "unit", "purchase_order", "description",
            "comments",
        ]  # fmt: skip


class ContractFilterForm(NautobotFilterForm, StatusModelFilterFormMixin):
    """Filter the contract list."""

    model = Contract
    field_order = [
        "q", "provider", "status", "contract_type", "billing_period", "currency", "auto_renew",
        "tenant_group", "tenant", "start_date", "end_date", "current_term_end__gte", "current_term_end__lte",
        "current_term_end__year", "current_term_end__month", "renewal_tier", "unit", "quantity__gte",
        "quantity__lte", "over_quota", "has_invoices", "has_assignments",
    ]  # fmt: skip
    q = forms.CharField(required=False, label="Search")
    provider = DynamicModelMultipleChoiceField(
        queryset=ServiceProvider.objects.all(), to_field_name="name", required=False
    )
    contract_type = forms.MultipleChoiceField(
        choices=ContractTypeChoices, required=False, widget=StaticSelect2Multiple()
    )
    billing_period = forms.MultipleChoiceField(
        choices=BillingPeriodChoices, required=False, widget=StaticSelect2Multiple()
    )
    currency = currency_filter_field()
    auto_renew = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BOOLEAN_FILTER_CHOICES))
    tenant_group = DynamicModelMultipleChoiceField(
        queryset=TenantGroup.objects.all(), to_field_name="name", required=False
    )
    tenant = DynamicModelMultipleChoiceField(
        queryset=Tenant.objects.all(),
        to_field_name="name",
        required=False,
        query_params={"tenant_group": "$tenant_group"},
    )
    start_date = forms.DateField(required=False, widget=DatePicker())
    end_date = forms.DateField(required=False, widget=DatePicker())
    # Computed as of today (services.terms): an auto-renewed contract counts with the term it rolled into.
    current_term_end__gte = forms.DateField(required=False, widget=DatePicker(), label="Current term ends from")
    current_term_end__lte = forms.DateField(required=False, widget=DatePicker(), label="Current term ends by")
    current_term_end__year = forms.IntegerField(
        required=False, min_value=1, max_value=9999, label="Current term end year"
    )
    current_term_end__month = forms.IntegerField(
        required=False, min_value=1, max_value=12, label="Current term end month"
    )
    renewal_tier = forms.MultipleChoiceField(
        choices=RENEWAL_TIER_CHOICES, required=False, widget=StaticSelect2Multiple(), label="Renewal tier (today)"
    )
    unit = forms.MultipleChoiceField(
        choices=EntitlementUnitChoices, required=False, widget=StaticSelect2Multiple(), label="Entitlement unit"
    )
    quantity__gte = quantity_field(label="Entitlement quantity at least")
    quantity__lte = quantity_field(label="Entitlement quantity at most")
    over_quota = forms.NullBooleanField(
        required=False, widget=StaticSelect2(choices=BOOLEAN_FILTER_CHOICES), label="Over quota (today)"
    )
    has_invoices = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BOOLEAN_FILTER_CHOICES))
    has_assignments = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BOOLEAN_FILTER_CHOICES))
    tags = TagFilterField(model)


#
# Invoices
#


class InvoiceForm(NautobotModelForm):
    """Create or edit an invoice; the currency defaults to the contract's."""

    contract = DynamicModelChoiceField(queryset=Contract.objects.all())
    currency = currency_field(required=False, help_text="Leave blank to use the contract's currency")
    comments = CommentField()

    class Meta:
        model = Invoice
        fields = [
            "contract", "invoice_number", "status", "invoice_date", "due_date", "period_start", "period_end",
            "amount", "currency", "paid_date", "description", "comments", "tags",
        ]  # fmt: skip
        widgets = {
            "invoice_date": DatePicker(),
            "due_date": DatePicker(),
            "period_start": DatePicker(),
            "period_end": DatePicker(),
            "paid_date": DatePicker(),
        }


class InvoiceBulkEditForm(TagsBulkEditFormMixin, StatusModelBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several invoices at once (typically to mark them paid)."""

    pk = forms.ModelMultipleChoiceField(queryset=Invoice.objects.all(), widget=forms.MultipleHiddenInput)
    invoice_date = forms.DateField(required=False, widget=DatePicker())
    due_date = forms.DateField(required=False, widget=DatePicker())
    paid_date = forms.DateField(required=False, widget=DatePicker())
    description = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)
    comments = CommentField(widget=SmallTextarea, label="Comments")

    class Meta:
        nullable_fields = ["due_date", "paid_date", "description", "comments"]


class InvoiceFilterForm(NautobotFilterForm, StatusModelFilterFormMixin):
    """Filter the invoice list."""

    model = Invoice
    field_order = ["q", "provider", "contract", "status", "currency", "invoice_date", "due_date", "paid_date"]
    q = forms.CharField(required=False, label="Search")
    provider = DynamicModelMultipleChoiceField(
        queryset=ServiceProvider.objects.all(), to_field_name="name", required=False
    )
    contract = DynamicModelMultipleChoiceField(
        queryset=Contract.objects.all(), required=False, query_params={"provider": "$provider"}
    )
    currency = currency_filter_field()
    invoice_date = forms.DateField(required=False, widget=DatePicker())
    due_date = forms.DateField(required=False, widget=DatePicker())
    paid_date = forms.DateField(required=False, widget=DatePicker())
    tags = TagFilterField(model)


#
# Assignments
#


def assignable_models():
    """The assignable model classes, in settings order."""
    return [apps.get_model(label) for label in assignable_model_labels()]


def object_field_name(model):
    """The form field holding an assignment target of `model`: "device", "virtual_machine", "tenant_group"..."""
    return model._meta.verbose_name.lower().replace(" ", "_")


def _assigned_object_fields():
    """One optional dynamic select per assignable model; the chosen object type says which one is read."""
    return {
        object_field_name(model): DynamicModelChoiceField(
            queryset=model.objects.all(),
            required=False,
            label=model._meta.verbose_name.capitalize(),
        )
        for model in assignable_models()
    }


class AssignableTypeField(forms.ModelChoiceField):
    """A select of the content types contracts may be assigned to, labelled by model name."""

    def label_from_instance(self, obj):
        """Label by model name ("Virtual machine"), not "Virtualization | virtual machine"."""
        model = obj.model_class()
        return model._meta.verbose_name.capitalize() if model else str(obj)


class ContractAssignmentForm(NautobotModelForm):
    """Assign a contract: choose the object type, then the object with that type's dynamic select."""

    contract = DynamicModelChoiceField(queryset=Contract.objects.all())
    assigned_object_type = AssignableTypeField(
        queryset=ContentType.objects.filter(assignable_content_types_q()).order_by("app_label", "model"),
        label="Object type",
        widget=StaticSelect2(),
    )
    # device, rack, location, circuit, virtual_machine, cluster, tenant, tenant_group (from the app's settings)
    locals().update(_assigned_object_fields())
    comments = CommentField()

    class Meta:
        model = ContractAssignment
        fields = [
            "contract", "assigned_object_type", "assigned_object_id", "coverage_start", "coverage_end",
            "allocation_weight", "quantity", "comments", "tags",
        ]  # fmt: skip
        widgets = {
            "assigned_object_id": forms.HiddenInput(),
            "coverage_start": DatePicker(),
            "coverage_end": DatePicker(),
        }

    def __init__(self, *args, **kwargs):
        """Show the current target in its type's select; accept ?device=<pk> (etc.) to preselect the type too."""
        super().__init__(*args, **kwargs)
        self.fields["assigned_object_id"].required = False
        # Left blank, the weight and quantity take the model's default (1): only uneven assignments need them.
        for name in ("allocation_weight", "quantity"):
            self.fields[name].required = False
        self.object_fields = {
            ContentType.objects.get_for_model(model).pk: object_field_name(model) for model in assignable_models()
        }
        self.order_fields(["contract", "assigned_object_type", *self.object_fields.values()])
        # Lets the form template show only the select matching the chosen type.
        self.fields["assigned_object_type"].widget.attrs["data-object-fields"] = ",".join(
            f"{pk}:{name}" for pk, name in self.object_fields.items()
        )
        instance = self.instance
        if instance.present_in_database and instance.assigned_object_type_id in self.object_fields:
            self.initial[self.object_fields[instance.assigned_object_type_id]] = instance.assigned_object_id
        elif not self.initial.get("assigned_object_type"):
            for type_pk, name in self.object_fields.items():
                if self.initial.get(name):
                    self.initial["assigned_object_type"] = type_pk
                    break

    def clean(self):
        """Read the object from the select matching the chosen type and store it as the generic relation."""
        super().clean()
        cleaned_data = self.cleaned_data
        for name in ("allocation_weight", "quantity"):
            if name in cleaned_data and cleaned_data[name] is None:
                cleaned_data[name] = ContractAssignment._meta.get_field(name).get_default()
        object_type = cleaned_data.get("assigned_object_type")
        if object_type is None:
            return cleaned_data
        field_name = self.object_fields.get(object_type.pk)
        target = cleaned_data.get(field_name) if field_name else None
        if target is None:
            self.add_error(field_name, f"Select the {object_type.model_class()._meta.verbose_name} to assign.")
            return cleaned_data
        cleaned_data["assigned_object_id"] = target.pk
        return cleaned_data


class ContractAssignmentBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several assignments at once."""

    pk = forms.ModelMultipleChoiceField(queryset=ContractAssignment.objects.all(), widget=forms.MultipleHiddenInput)
    contract = DynamicModelChoiceField(queryset=Contract.objects.all(), required=False)
    coverage_start = forms.DateField(required=False, widget=DatePicker())
    coverage_end = forms.DateField(required=False, widget=DatePicker())
    allocation_weight = allocation_weight_field()
    quantity = quantity_field()
    comments = CommentField(widget=SmallTextarea, label="Comments")

    class Meta:
        nullable_fields = ["coverage_start", "coverage_end", "comments"]


class ContractAssignmentFilterForm(NautobotFilterForm):
    """Filter the assignment list."""

    model = ContractAssignment
    field_order = ["q", "provider", "contract", "assigned_object_type"]
    q = forms.CharField(required=False, label="Search")
    provider = DynamicModelMultipleChoiceField(
        queryset=ServiceProvider.objects.all(), to_field_name="name", required=False
    )
    contract = DynamicModelMultipleChoiceField(
        queryset=Contract.objects.all(), required=False, query_params={"provider": "$provider"}
    )
    assigned_object_type = forms.ChoiceField(required=False, label="Object type", widget=StaticSelect2())
    coverage_start = forms.DateField(required=False, widget=DatePicker())
    coverage_end = forms.DateField(required=False, widget=DatePicker())
    quantity__gte = quantity_field(label="Quantity at least")
    quantity__lte = quantity_field(label="Quantity at most")
    allocation_weight__gte = allocation_weight_field(label="Allocation weight at least")
    allocation_weight__lte = allocation_weight_field(label="Allocation weight at most")
    tags = TagFilterField(model)

    def __init__(self, *args, **kwargs):
        """Offer the assignable types as "app_label.model" values, which the filter set's ContentTypeFilter takes."""
        super().__init__(*args, **kwargs)
        self.fields["assigned_object_type"].choices = add_blank_choice(
            [(model._meta.label_lower, model._meta.verbose_name.capitalize()) for model in assignable_models()]
        )


#
# Attachments
#


class AttachmentFormMixin:
    """The file is chosen on upload only: a stored file is never replaced in place (nor linked by its URL)."""

    def __init__(self, *args, **kwargs):
        """Drop the file field when editing an existing attachment."""
        super().__init__(*args, **kwargs)
        if self.instance.present_in_database:
            del self.fields["file"]
        else:
            self.fields["file"].widget = forms.FileInput()

    def clean(self):
        """Default a blank name to the file name here, so a clash is a form error rather than a failed insert."""
        super().clean()
        uploaded = self.cleaned_data.get("file")
        if uploaded:
            # The model does the same in save(), but only after the uniqueness checks have run.
            self.cleaned_data["name"] = default_attachment_name(self.cleaned_data.get("name"), uploaded.name)
        return self.cleaned_data


class ContractAttachmentForm(AttachmentFormMixin, NautobotModelForm):
    """Upload a file against a contract, or edit an attachment's name and description."""

    contract = DynamicModelChoiceField(queryset=Contract.objects.all())

    class Meta:
        model = ContractAttachment
        fields = ["contract", "file", "name", "description", "tags"]


class ContractAttachmentBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several contract attachments at once."""

    pk = forms.ModelMultipleChoiceField(queryset=ContractAttachment.objects.all(), widget=forms.MultipleHiddenInput)
    description = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)

    class Meta:
        nullable_fields = ["description"]


class ContractAttachmentFilterForm(NautobotFilterForm):
    """Filter the contract attachment list."""

    model = ContractAttachment
    field_order = ["q", "contract"]
    q = forms.CharField(required=False, label="Search")
    contract = DynamicModelMultipleChoiceField(queryset=Contract.objects.all(), required=False)
    tags = TagFilterField(model)


class InvoiceAttachmentForm(AttachmentFormMixin, NautobotModelForm):
    """Upload a file against an invoice, or edit an attachment's name and description."""

    invoice = DynamicModelChoiceField(queryset=Invoice.objects.all())

    class Meta:
        model = InvoiceAttachment
        fields = ["invoice", "file", "name", "description", "tags"]


class InvoiceAttachmentBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several invoice attachments at once."""

    pk = forms.ModelMultipleChoiceField(queryset=InvoiceAttachment.objects.all(), widget=forms.MultipleHiddenInput)
    description = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)

    class Meta:
        nullable_fields = ["description"]


class InvoiceAttachmentFilterForm(NautobotFilterForm):
    """Filter the invoice attachment list."""

    model = InvoiceAttachment
    field_order = ["q", "invoice"]
    q = forms.CharField(required=False, label="Search")
    invoice = DynamicModelMultipleChoiceField(queryset=Invoice.objects.all(), required=False)
    tags = TagFilterField(model)


#
# Exchange rates
#


class ExchangeRateForm(NautobotModelForm):
    """Create or edit an exchange rate into the reporting currency."""

    currency = currency_field(help_text="The currency this rate converts from")

    class Meta:
        model = ExchangeRate
        fields = ["currency", "rate", "effective_date", "description", "tags"]
        widgets = {"effective_date": DatePicker()}


class ExchangeRateBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several exchange rates at once."""

    pk = forms.ModelMultipleChoiceField(queryset=ExchangeRate.objects.all(), widget=forms.MultipleHiddenInput)
    description = forms.CharField(max_length=255, required=False)

    class Meta:
        nullable_fields = ["description"]


class ExchangeRateFilterForm(NautobotFilterForm):
    """Filter the exchange rate list."""

    model = ExchangeRate
    field_order = ["q", "currency", "effective_date"]
    q = forms.CharField(required=False, label="Search")
    currency = currency_filter_field()
    effective_date = forms.DateField(required=False, widget=DatePicker())
    tags = TagFilterField(model)


#
# Budgets
#


class BudgetForm(NautobotModelForm):
    """Create or edit a budget."""

    currency = currency_field()
    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)

    class Meta:
        model = Budget
        fields = ["name", "fiscal_year", "currency", "amount", "tenant", "cost_center", "description", "tags"]


class BudgetBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Edit several budgets at once."""

    pk = forms.ModelMultipleChoiceField(queryset=Budget.objects.all(), widget=forms.MultipleHiddenInput)
    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)
    cost_center = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)
    description = forms.CharField(max_length=CHARFIELD_MAX_LENGTH, required=False)

    class Meta:
        nullable_fields = ["tenant", "cost_center", "description"]


class BudgetFilterForm(NautobotFilterForm):
    """Filter the budget list."""

    model = Budget
    field_order = ["q", "fiscal_year", "currency", "tenant", "cost_center"]
    q = forms.CharField(required=False, label="Search")
    fiscal_year = forms.IntegerField(required=False, min_value=1900, max_value=2200)
    currency = currency_filter_field()
    tenant = DynamicModelMultipleChoiceField(queryset=Tenant.objects.all(), to_field_name="name", required=False)
    cost_center = forms.CharField(required=False)
    tags = TagFilterField(model)


#
# Cost snapshots (read-only: filter form only)
#


class CostSnapshotFilterForm(NautobotFilterForm):
    """Filter the cost snapshot list."""

    model = CostSnapshot
    field_order = ["q", "currency", "snapshot_date"]
    q = forms.CharField(required=False, label="Search")
    currency = currency_filter_field()
    snapshot_date = forms.DateField(required=False, widget=DatePicker())


class ContractAlertBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Acknowledge, re-open or snooze several alerts at once (the model's clean() refuses resolved ones)."""

    pk = forms.ModelMultipleChoiceField(queryset=ContractAlert.objects.all(), widget=forms.MultipleHiddenInput)
    state = forms.ChoiceField(
        choices=add_blank_choice(
            [(AlertStateChoices.STATE_ACKNOWLEDGED, "Acknowledge"), (AlertStateChoices.STATE_OPEN, "Re-open")]
        ),
        required=False,
        widget=StaticSelect2(),
        label="Acknowledge",
    )
    ack_comment = forms.CharField(required=False, widget=SmallTextarea, label="Acknowledgement comment")
    snoozed_until = forms.DateField(
        required=False, widget=DatePicker(), label="Snooze until", help_text="Not listed as needing action before this"
    )

    class Meta:
        nullable_fields = ["ack_comment", "snoozed_until"]


class ContractAlertFilterForm(NautobotFilterForm):
    """Filter the alert list (it opens on "needs action": open and not snoozed)."""

    model = ContractAlert
    field_order = ["q", "needs_action", "kind", "severity", "state", "contract", "provider", "due_date"]
    q = forms.CharField(required=False, label="Search")
    needs_action = forms.NullBooleanField(
        required=False, widget=StaticSelect2(choices=BOOLEAN_FILTER_CHOICES), label="Needs action"
    )
    kind = forms.MultipleChoiceField(choices=AlertKindChoices, required=False, widget=StaticSelect2Multiple())
    severity = forms.MultipleChoiceField(choices=AlertSeverityChoices, required=False, widget=StaticSelect2Multiple())
    state = forms.MultipleChoiceField(choices=AlertStateChoices, required=False, widget=StaticSelect2Multiple())
    contract = DynamicModelMultipleChoiceField(queryset=Contract.objects.all(), to_field_name="name", required=False)
    provider = DynamicModelMultipleChoiceField(
        queryset=ServiceProvider.objects.all(), to_field_name="name", required=False
    )
    due_date = forms.DateField(required=False, widget=DatePicker())
    tags = TagFilterField(model)
