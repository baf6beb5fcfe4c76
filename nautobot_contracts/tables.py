"""Tables for the list views and the related-object panels."""

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
import django_tables2 as tables
from nautobot.apps.tables import (
    BaseTable,
    BooleanColumn,
    ButtonsColumn,
    LinkedCountColumn,
    StatusTableMixin,
    TagColumn,
    ToggleColumn,
)

from nautobot_contracts import clock
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
from nautobot_contracts.services import budgets, entitlements, money, terms


class ServiceProviderTable(BaseTable):
    """Service providers."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    circuit_provider = tables.Column(linkify=True)
    portal_url = tables.URLColumn(verbose_name="Portal URL")
    contract_count = LinkedCountColumn(
        viewname="plugins:nautobot_contracts:contract_list",
        url_params={"provider": "pk"},
        verbose_name="Contracts",
    )
    tags = TagColumn(url_name="plugins:nautobot_contracts:serviceprovider_list")
    actions = ButtonsColumn(ServiceProvider)

    class Meta(BaseTable.Meta):
        model = ServiceProvider
        fields = (
            "pk", "name", "account_number", "portal_url", "support_email", "support_phone", "circuit_provider",
            "contract_count", "description", "tags", "actions",
        )  # fmt: skip
        default_columns = ("pk", "name", "account_number", "support_email", "contract_count", "actions")


def page_records(table, record):
    """The records on the table's current page (all its rows when it is not paginated), `record` among them."""
    page = getattr(table, "page", None)
    # A page of a table holds BoundRows; their records are the objects.
    rows = page.object_list if page is not None else table.rows
    records = [getattr(row, "record", row) for row in rows]
    if record not in records:
        records.append(record)
    return records


class UtilizationColumn(tables.Column):
    """E.g. "320 / 500 seats (64.0%)" (services.entitlements); over quota as a danger badge. One query per page."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Utilization")
        super().__init__(empty_values=(), orderable=False, **kwargs)

    def render(self, record, table):
        """An em dash for a contract without an entitlement."""
        figure = table.entitlement(record)
        if figure is None:
            return "—"
        if figure.over_quota:
            return format_html('<span class="badge bg-danger" title="Over quota">{}</span>', figure.summary())
        return figure.summary()

    def value(self, record, table, **kwargs):
        """Plain text for exports."""
        figure = table.entitlement(record)
        return figure.summary() if figure else ""


class ContractTable(StatusTableMixin, BaseTable):
    """Contracts, with their monthly cost as the service layer computes it."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    tenant = tables.Column(linkify=True)
    auto_renew = BooleanColumn()
    monthly_cost = tables.Column(empty_values=(), orderable=False, verbose_name="Monthly cost")
    renewal_tier = tables.Column(empty_values=(), orderable=False, verbose_name="Renewal tier")
    quantity = tables.Column(verbose_name="Entitlement quantity")
    unit = tables.Column(verbose_name="Entitlement unit")
    utilization = UtilizationColumn()
    invoice_count = LinkedCountColumn(
        viewname="plugins:nautobot_contracts:invoice_list",
        url_params={"contract": "pk"},
        verbose_name="Invoices",
    )
    assignment_count = LinkedCountColumn(
        viewname="plugins:nautobot_contracts:contractassignment_list",
        url_params={"contract": "pk"},
        verbose_name="Assignments",
    )
    tags = TagColumn(url_name="plugins:nautobot_contracts:contract_list")
    actions = ButtonsColumn(Contract)

    class Meta(BaseTable.Meta):
        model = Contract
        fields = (
            "pk", "name", "contract_number", "provider", "status", "contract_type", "tenant", "start_date",
            "end_date", "auto_renew", "notice_period_days", "renewal_term_months", "recurring_cost",
            "billing_period", "one_time_cost", "monthly_cost", "renewal_tier", "currency", "cost_center",
            "quantity", "unit", "utilization", "purchase_order", "invoice_count", "assignment_count", "description",
            "tags", "actions",
        )  # fmt: skip
        default_columns = (
            "pk", "name", "provider", "status", "contract_type", "end_date", "auto_renew", "monthly_cost",
            "currency", "utilization", "actions",
        )  # fmt: skip

    def __init__(self, *args, user=None, **kwargs):
        self.figures_user = user
        super().__init__(*args, user=user, **kwargs)

    def entitlement(self, record):
        """The Entitlement of `record` (None without one), computed with those of the whole page at once."""
        cache = self.__dict__.setdefault("_entitlements", {})
        if record.pk not in cache:
            records = [item for item in page_records(self, record) if item.pk not in cache]
            figures = entitlements.entitlements_for(records, clock.today(), user=self.figures_user)
            cache.update({item.pk: figures.get(item.pk) for item in records})
        return cache[record.pk]

    def render_monthly_cost(self, record):
        """recurring_cost per month, rounded for display by the service layer."""
        return money.money_str(terms.monthly_cost(record))

    def render_renewal_tier(self, record):
        """Today's renewal tier as a badge (services.terms; needs the status loaded, as the views select it)."""
        from nautobot_contracts.ui import tier_badge  # pylint: disable=import-outside-toplevel  # ui imports tables

        return tier_badge(terms.term_figures(record, clock.today()).tier)


class InvoiceTable(StatusTableMixin, BaseTable):
    """Invoices."""

    pk = ToggleColumn()
    invoice_number = tables.Column(linkify=True)
    contract = tables.Column(linkify=True)
    provider = tables.Column(accessor="contract__provider", linkify=True, verbose_name="Provider")
    tags = TagColumn(url_name="plugins:nautobot_contracts:invoice_list")
    actions = ButtonsColumn(Invoice)

    class Meta(BaseTable.Meta):
        model = Invoice
        fields = (
            "pk", "invoice_number", "contract", "provider", "status", "invoice_date", "due_date", "period_start",
            "period_end", "amount", "currency", "paid_date", "description", "tags", "actions",
        )  # fmt: skip
        default_columns = (
            "pk", "invoice_number", "contract", "status", "invoice_date", "due_date", "amount", "currency",
            "paid_date", "actions",
        )  # fmt: skip


class ContractAssignmentTable(BaseTable):
    """Assignments of contracts to Nautobot objects."""

    pk = ToggleColumn()
    contract = tables.Column(linkify=True)
    provider = tables.Column(accessor="contract__provider", linkify=True, verbose_name="Provider")
    assigned_object_type = tables.Column(verbose_name="Object type")
    assigned_object = tables.Column(linkify=True, orderable=False, verbose_name="Object")
    tags = TagColumn(url_name="plugins:nautobot_contracts:contractassignment_list")
    actions = ButtonsColumn(ContractAssignment)

    class Meta(BaseTable.Meta):
        model = ContractAssignment
        fields = (
            "pk", "contract", "provider", "assigned_object_type", "assigned_object",
            "coverage_start", "coverage_end", "allocation_weight", "quantity", "comments", "tags", "actions",
        )  # fmt: skip
        default_columns = (
            "pk", "contract", "assigned_object_type", "assigned_object", "coverage_start",
            "coverage_end", "actions",
        )  # fmt: skip

    def render_assigned_object_type(self, value):
        """The model's name, e.g. "Device", rather than "dcim | device"."""
        model = value.model_class()
        return model._meta.verbose_name.capitalize() if model else str(value)


class DownloadColumn(tables.Column):
    """A link to the permission-checked download view; never the storage URL."""

    def __init__(self, url_name, **kwargs):
        """`url_name` is the download route, taking the attachment's pk."""
        self.url_name = url_name
        kwargs.setdefault("verbose_name", "File")
        kwargs.setdefault("orderable", False)
        super().__init__(accessor="file", **kwargs)

    def render(self, value, record):
        """The stored file name, linked to the download view."""
        return format_html(
            '<a href="{}"><span class="mdi mdi-download" aria-hidden="true"></span> {}</a>',
            reverse(self.url_name, kwargs={"pk": record.pk}),
            record.filename,
        )


class AttachmentTableBase(BaseTable):
    """Columns shared by contract and invoice attachments."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    size = tables.Column(verbose_name="Size")
    sha256 = tables.Column(verbose_name="SHA-256")

    def render_size(self, value):
        """Human-readable size."""
        return filesizeformat(value)


class ContractAttachmentTable(AttachmentTableBase):
    """Files stored against contracts."""

    contract = tables.Column(linkify=True)
    file = DownloadColumn("plugins:nautobot_contracts:contractattachment_download")
    tags = TagColumn(url_name="plugins:nautobot_contracts:contractattachment_list")
    actions = ButtonsColumn(ContractAttachment)

    class Meta(BaseTable.Meta):
        model = ContractAttachment
        fields = (
            "pk", "name", "contract", "file", "size", "mime_type", "sha256", "description", "created", "tags",
            "actions",
        )  # fmt: skip
        default_columns = ("pk", "name", "contract", "file", "size", "description", "actions")


class InvoiceAttachmentTable(AttachmentTableBase):
    """Files stored against invoices."""

    invoice = tables.Column(linkify=True)
    file = DownloadColumn("plugins:nautobot_contracts:invoiceattachment_download")
    tags = TagColumn(url_name="plugins:nautobot_contracts:invoiceattachment_list")
    actions = ButtonsColumn(InvoiceAttachment)

    class Meta(BaseTable.Meta):
        model = InvoiceAttachment
        fields = (
            "pk", "name", "invoice", "file", "size", "mime_type", "sha256", "description", "created", "tags",
            "actions",
        )  # fmt: skip
        default_columns = ("pk", "name", "invoice", "file", "size", "description", "actions")


class ExchangeRateTable(BaseTable):
    """Exchange rates into the reporting currency."""

    pk = ToggleColumn()
    currency = tables.Column(linkify=True)
    tags = TagColumn(url_name="plugins:nautobot_contracts:exchangerate_list")
    actions = ButtonsColumn(ExchangeRate)

    class Meta(BaseTable.Meta):
        model = ExchangeRate
        fields = ("pk", "currency", "rate", "effective_date", "description", "tags", "actions")
        default_columns = ("pk", "currency", "rate", "effective_date", "description", "actions")


class BudgetFigureColumn(tables.Column):
    """One computed figure of a budget; the first cell rendered computes the whole page's figures (two queries)."""

    def __init__(self, figure, **kwargs):
        self.figure = figure
        super().__init__(empty_values=(), orderable=False, **kwargs)

    def render(self, record, table):
        """The figure as shown: money with two decimals, a percentage, or an over-budget badge."""
        figures = table.budget_figures(record)
        value = getattr(figures, self.figure)
        if self.figure == "used_pct":
            if value is None:
                return "—"
            css = "bg-danger" if figures.over_budget else "bg-success"
            return format_html('<span class="badge {}">{}%</span>', css, value)
        return money.money_str(value)


class BudgetTable(BaseTable):
    """Budgets, with actual, committed, remaining and used % as of today (services.budgets)."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    tenant = tables.Column(linkify=True)
    actual = BudgetFigureColumn("actual", verbose_name="Actual")
    committed = BudgetFigureColumn("committed", verbose_name="Committed")
    remaining = BudgetFigureColumn("remaining", verbose_name="Remaining")
    used_pct = BudgetFigureColumn("used_pct", verbose_name="Used")
    tags = TagColumn(url_name="plugins:nautobot_contracts:budget_list")
    actions = ButtonsColumn(Budget)

    class Meta(BaseTable.Meta):
        model = Budget
        fields = (
            "pk", "name", "fiscal_year", "currency", "amount", "tenant", "cost_center", "actual", "committed",
            "remaining", "used_pct", "description", "tags", "actions",
        )  # fmt: skip
        default_columns = (
            "pk", "name", "fiscal_year", "currency", "amount", "tenant", "cost_center", "committed", "remaining",
            "used_pct", "actions",
        )  # fmt: skip

    def __init__(self, *args, user=None, **kwargs):
        self.figures_user = user
        super().__init__(*args, user=user, **kwargs)

    def budget_figures(self, record):
        """The figures of `record`, computed with those of every budget on the current page at once."""
        cache = self.__dict__.setdefault("_budget_figures", {})
        if record.pk not in cache:
            page = getattr(self, "page", None)
            # A page of a table holds BoundRows; their records are the budgets.
            records = [getattr(row, "record", row) for row in page.object_list] if page is not None else [record]
            if record not in records:
                records.append(record)
            cache.update(budgets.budget_figures(records, clock.today(), user=self.figures_user))
        return cache[record.pk]


class CostSnapshotTable(BaseTable):
    """Cost history: read-only, so no selection or edit/delete buttons."""

    snapshot_date = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = CostSnapshot
        fields = (
            "snapshot_date", "currency", "monthly_burn", "renewal_90d", "active_contract_count",
            "coverage_gap_count", "captured_at",
        )  # fmt: skip
        default_columns = fields


def badge(css_class, label):
    """A Bootstrap badge (severity and state of alerts)."""
    return format_html('<span class="badge bg-{}">{}</span>', css_class, label)


class ContractAlertTable(BaseTable):
    """Contract alerts with severity and state badges; selectable for the bulk Acknowledge / Snooze-until edit."""

    pk = ToggleColumn()
    alert = tables.Column(accessor="pk", linkify=True, orderable=False, verbose_name="Alert")
    severity = tables.Column()
    state = tables.Column()
    contract = tables.Column(linkify=True)
    provider = tables.Column(accessor="contract__provider", linkify=True, verbose_name="Provider")
    invoice = tables.Column(linkify=True)
    acknowledged_by = tables.Column()
    tags = TagColumn(url_name="plugins:nautobot_contracts:contractalert_list")

    class Meta(BaseTable.Meta):
        model = ContractAlert
        fields = (
            "pk", "alert", "kind", "severity", "state", "contract", "provider", "invoice", "currency", "metric",
            "occasion", "due_date", "message", "first_seen", "last_seen", "snoozed_until", "acknowledged_by",
            "acknowledged_at", "ack_comment", "resolved_at", "notified_severity", "notified_at", "tags",
        )  # fmt: skip
        default_columns = (
            "pk", "alert", "kind", "severity", "state", "contract", "due_date", "message", "snoozed_until",
        )  # fmt: skip

    def render_alert(self, record):
        return record.get_kind_display()

    def render_severity(self, record):
        return badge(record.get_severity_color(), record.get_severity_display())

    def render_state(self, record):
        return badge(record.get_state_color(), record.get_state_display())
