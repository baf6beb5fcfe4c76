"""Detail-page layouts (UI Component Framework): panels and buttons for each model's detail view."""

from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from nautobot.apps.templatetags import (
    hyperlinked_email,
    hyperlinked_object,
    hyperlinked_object_with_color,
    hyperlinked_phone_number,
    placeholder,
)
from nautobot.apps.ui import (
    Button,
    ButtonColorChoices,
    DataTablePanel,
    EChartsBase,
    EChartsPanel,
    EChartsTypeChoices,
    KeyValueTablePanel,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    SectionChoices,
)
from nautobot.apps.views import get_obj_from_context

from nautobot_contracts import clock, tables
from nautobot_contracts.charts import BarsWithLineChart, StackedBarChart, chart_amount
from nautobot_contracts.services import (
    billing,
    budgets,
    dashboard,
    entitlements,
    invoices,
    money,
    notifications,
    terms,
)

TIER_BADGES = {
    terms.TIER_MISSED: ("bg-danger", "Missed: notice deadline passed"),
    terms.TIER_URGENT: ("bg-danger", "Urgent"),
    terms.TIER_SOON: ("bg-warning text-dark", "Soon"),
    terms.TIER_UPCOMING: ("bg-info", "Upcoming"),  # Nautobot 3's info blue needs light text to be readable
}


def tier_badge(tier):
    """A renewal tier as a coloured badge (an em dash for no tier)."""
    if not tier:
        return placeholder(None)
    css, label = TIER_BADGES[tier]
    return format_html('<span class="badge {}">{}</span>', css, label)


class AddChildButton(Button):
    """A button opening another model's add form with this object prefilled as its parent (`?<parent_field>=<pk>`)."""

    parent_field = None

    def get_link(self, context):
        """The add form's URL, prefilled with this object and returning here afterwards."""
        obj = get_obj_from_context(context, self.context_object_key)
        query = urlencode({self.parent_field: obj.pk, "return_url": obj.get_absolute_url()})
        return f"{reverse(self.link_name)}?{query}"


def download_link(url_name):
    """A value transform rendering an attachment's file as a link to its permission-checked download view."""

    def render(field_file):
        if not field_file:
            return placeholder(None)
        return format_html(
            '<a href="{}"><span class="mdi mdi-download" aria-hidden="true"></span> {}</a>',
            reverse(url_name, kwargs={"pk": field_file.instance.pk}),
            field_file.instance.filename,
        )

    return render


def content_type_name(content_type):
    """The model name of a content type, e.g. Device for dcim.device."""
    model = content_type.model_class() if content_type else None
    return model._meta.verbose_name.capitalize() if model else placeholder(content_type)


class ContractTermsPanel(KeyValueTablePanel):
    """Money and renewal figures of a contract as of today, all computed by `services.terms`."""

    LABELS = {
        "recurring_cost": "Recurring cost",
        "one_time_cost": "One-time cost",
        "monthly_cost": "Monthly cost",
        "active": "Active today",
        "current_term_end": "Current term end",
        "notice_deadline": "Notice deadline",
        "renewal_tier": "Renewal tier",
    }

    def get_data(self, context):
        """The figures, computed once per render from the contract in the context."""
        contract = get_obj_from_context(context)
        today = clock.today()
        currency = contract.currency
        figures = terms.term_figures(contract, today)
        data = {
            "recurring_cost": f"{money.money_str(contract.recurring_cost)} {currency} "
            f"({contract.get_billing_period_display().lower()})",
            "one_time_cost": f"{money.money_str(contract.one_time_cost)} {currency}",
            "monthly_cost": f"{money.money_str(terms.monthly_cost(contract))} {currency}",
            "active": figures.active,
            "current_term_end": figures.current_term_end if figures.active else None,
            "notice_deadline": None,
            "renewal_tier": None,
        }
        if figures.active:
            days_left = figures.days_to_deadline
            when = f"in {days_left} days" if days_left >= 0 else f"{-days_left} days ago"
            data["notice_deadline"] = f"{date_format(figures.notice_deadline)} ({when})"
            if figures.tier:
                css, label = TIER_BADGES[figures.tier]
                data["renewal_tier"] = format_html('<span class="badge {}">{}</span>', css, label)
        return data

    def render_key(self, key, value, context):
        """Human labels for the computed keys."""
        return self.LABELS.get(key, super().render_key(key, value, context))


class EntitlementPanel(KeyValueTablePanel):
    """What the contract buys (quantity and unit) and how much of it is used today (services.entitlements).

    One query; none for a contract without an entitlement. Counts only what the viewer may see.
    """

    LABELS = {
        "entitlement": "Entitlement",
        "used": "Used today",
        "utilization": "Utilization",
    }

    def get_data(self, context):
        """The figures, or a single empty "Entitlement" row when the contract states none."""
        contract = get_obj_from_context(context)
        figure = entitlements.entitlement_for(contract, clock.today(), user=_request_user(context))
        if figure is None:
            return {"entitlement": None}
        if contract.unit == entitlements.UNIT_DEVICES:
            how = "devices the contract covers today (coverage rule)"
        else:
            how = "sum of the quantities of the assignments in force today"
        if figure.over_quota:
            badge = format_html('<span class="badge bg-danger">{}% — over quota</span>', figure.utilization_pct)
        elif figure.under_utilized:
            badge = format_html(
                '<span class="badge bg-warning text-dark">{}% — under-utilized</span>', figure.utilization_pct
            )
        else:
            badge = format_html('<span class="badge bg-success">{}%</span>', figure.utilization_pct)
        return {
            "entitlement": f"{figure.quantity} {figure.unit_label}",
            "used": f"{figure.used} {figure.unit_label} ({how})",
            "utilization": badge,
        }

    def render_key(self, key, value, context):
        """Human labels for the computed keys."""
        return self.LABELS.get(key, super().render_key(key, value, context))


class ProviderBurnPanel(KeyValueTablePanel):
    """A provider's monthly burn per currency today, over the contracts the viewer may see (services.money)."""

    def get_data(self, context):
        """{currency: monthly burn} of the provider's active contracts."""
        provider = get_obj_from_context(context)
        burn = money.monthly_burn_by_currency(
            clock.today(), user=context["request"].user, queryset=provider.contracts.all()
        )
        return {code: money.money_str(amount) for code, amount in sorted(burn.items())} or {"Monthly burn": None}


def provider_renewals_chart_data(context):
    """The provider's renewals per month for the next 12 months, converted, one stacked series per currency."""
    provider = get_obj_from_context(context)
    months = dashboard.converted_renewals_by_month(
        clock.today(), user=context["request"].user, queryset=provider.contracts.all()
    )
    currencies = sorted({code for figure in months.values() for code in figure.converted})
    return {
        "x": list(months),
        "series": [
            {"name": code, "data": [chart_amount(figure.converted.get(code, 0)) for figure in months.values()]}
            for code in currencies
        ],
    }


def contract_invoices_chart_data(context):
    """The contract's invoiced amounts per month of service (bars) against what its billing periods expect (line).

    The expected amount of each started billing period (services.billing) sits in the month the period starts; months
    where no period starts have no point on the line.
    """
    contract = get_obj_from_context(context)
    user = context["request"].user
    invoiced = dashboard.invoices_by_month(contract, user=user)
    expected = {}
    for period in billing.billing_for(contract, clock.today(), user=user).periods:
        month = dashboard.month_label(period.start)
        expected[month] = expected.get(month, 0) + period.expected
    months = sorted(set(invoiced) | set(expected))
    currency = contract.currency
    return {
        "x": months,
        "series": [
            {"name": f"Invoiced ({currency})", "data": [chart_amount(invoiced.get(month, 0)) for month in months]},
            {
                "name": f"Expected ({currency})",
                "data": [chart_amount(expected[month]) if month in expected else None for month in months],
            },
        ],
    }


class RenewalOwnersPanel(DataTablePanel):
    """The contract's renewal owners (Contacts and Teams in the role "Renewal owner") and a link to add one."""

    context_data_key = "nautobot_contracts_renewal_owners"

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Renewal owners")
        kwargs.setdefault("columns", ["type", "name", "email", "status"])
        kwargs.setdefault("column_headers", ["Type", "Name", "E-mail", "Status"])
        super().__init__(**kwargs)

    def get_extra_context(self, context):
        """The owners the viewer may see (services.notifications.renewal_owners)."""
        contract = get_obj_from_context(context)
        rows = [
            {
                "type": "Contact" if association.contact_id else "Team",
                "name": hyperlinked_object(association.contact_or_team, "name"),
                "email": hyperlinked_email(association.contact_or_team.email),
                "status": hyperlinked_object_with_color(association.status),
            }
            for association in notifications.renewal_owners(contract, user=context["request"].user)
        ]
        context[self.context_data_key] = rows
        return super().get_extra_context(context)

    def render_footer_content(self, context):
        """The "Add renewal owner" button: Nautobot's assign-contact form with this contract and the role filled in."""
        if not context["request"].user.has_perm("extras.add_contactassociation"):
            return ""
        contract = get_obj_from_context(context)
        query = {
            "associated_object_type": ContentType.objects.get_for_model(contract).pk,
            "associated_object_id": contract.pk,
            "return_url": contract.get_absolute_url(),
        }
        role = notifications.renewal_owner_role()
        if role is not None:
            query["role"] = role.pk
        return format_html(
            '<div class="float-end"><a href="{}?{}" class="btn btn-primary btn-sm">'
            '<span class="mdi mdi-account-plus" aria-hidden="true"></span> Add renewal owner</a></div>'
            '<div class="clearfix"></div>',
            reverse("extras:object_contact_team_assign"),
            urlencode(query),
        )


BILLING_STATE_BADGES = {
    billing.STATE_MISSING: ("bg-danger", "Missing"),
    billing.STATE_PENDING: ("bg-secondary", "Pending"),
    billing.STATE_OK: ("bg-success", "OK"),
    billing.STATE_OVER: ("bg-warning text-dark", "Over-billed"),
    billing.STATE_UNDER: ("bg-warning text-dark", "Under-billed"),
}
# The Billing panel lists this many of the latest periods; its totals cover every started period.
BILLING_PANEL_PERIODS = 24


def _request_user(context):
    request = context.get("request")
    return getattr(request, "user", None)


class BillingPanel(DataTablePanel):
    """The contract's started billing periods (latest first) with expected, invoiced, variance and state; totals.

    Two queries (services.billing) whatever the number of periods and invoices, counting the invoices the user may
    view.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("context_data_key", "billing_periods")
        kwargs.setdefault("columns", ["period", "expected", "invoiced", "variance", "state"])
        kwargs.setdefault("column_headers", ["Period", "Expected", "Invoiced", "Variance", "State"])
        super().__init__(**kwargs)

    def get_extra_context(self, context):
        """Compute the rows, then let DataTablePanel render them."""
        contract = get_obj_from_context(context)
        figures = billing.billing_for(contract, clock.today(), user=_request_user(context))
        currency = contract.currency
        rows = []
        for period in reversed(figures.periods[-BILLING_PANEL_PERIODS:]):
            css, label = BILLING_STATE_BADGES[period.state]
            span = f"{date_format(period.start)} – {date_format(period.end)}"
            if period.prorated:
                span += " (pro-rated)"
            invoiced = f"{money.money_str(period.invoiced)} {currency}"
            if period.invoice_count > 1:
                invoiced += f" ({period.invoice_count} invoices)"
            rows.append(
                {
                    "period": span,
                    "expected": f"{money.money_str(period.expected)} {currency}",
                    "invoiced": invoiced,
                    "variance": f"{money.money_str(period.variance)} {currency}",
                    "state": format_html('<span class="badge {}">{}</span>', css, label),
                }
            )
        if figures.periods:
            rows.append(
                {
                    "period": format_html(
                        "<strong>Total to date</strong> ({} periods, {} missing)",
                        len(figures.periods),
                        figures.missing_periods,
                    ),
                    "expected": f"{money.money_str(figures.expected_to_date)} {currency}",
                    "invoiced": f"{money.money_str(figures.invoiced_to_date)} {currency}",
                    "variance": f"{money.money_str(figures.variance_to_date)} {currency}",
                    "state": None,
                }
            )
        return {**super().get_extra_context(context), "data": rows}


class InvoiceBillingPanel(KeyValueTablePanel):
    """The invoice's billing period with what it should say, the period's variance, and days overdue, as of today."""

    LABELS = {
        "billing_period": "Billing period",
        "expected_amount": "Expected for the period",
        "variance": "Variance of the period",
        "days_overdue": "Days overdue",
    }

    def get_data(self, context):
        """From services.billing (two queries) and services.invoices."""
        invoice = get_obj_from_context(context)
        today = clock.today()
        period = billing.invoice_periods([invoice], today, user=_request_user(context)).get(invoice.pk)
        currency = invoice.currency
        data = dict.fromkeys(("billing_period", "expected_amount", "variance"))
        if period is not None:
            css, label = BILLING_STATE_BADGES[period.state]
            data["billing_period"] = format_html(
                '{} – {} <span class="badge {}">{}</span>',
                date_format(period.start),
                date_format(period.end),
                css,
                label,
            )
            data["expected_amount"] = f"{money.money_str(period.expected)} {currency}"
            data["variance"] = (
                f"{money.money_str(period.variance)} {currency} ({period.invoice_count} invoice(s) in the period)"
            )
        data["days_overdue"] = invoices.days_overdue(invoice, today) or None
        return data

    def render_key(self, key, value, context):
        """Human labels for the computed keys."""
        return self.LABELS.get(key, super().render_key(key, value, context))


def budget_figures_from_context(context):
    """The budget's figures (services.budgets) as of today, computed once per page render."""
    budget = get_obj_from_context(context)
    if not hasattr(budget, "_contracts_figures"):
        budget._contracts_figures = budgets.figures_for(budget, clock.today(), user=_request_user(context))
    return budget._contracts_figures


class BudgetFiguresPanel(KeyValueTablePanel):
    """Actual, committed, remaining and used % of a budget as of today; over budget is flagged."""

    LABELS = {
        "fiscal_year_span": "Fiscal year",
        "actual": "Actual (invoiced)",
        "committed": "Committed",
        "remaining": "Remaining",
        "used_pct": "Used",
    }

    def get_data(self, context):
        """The figures, from services.budgets."""
        budget = get_obj_from_context(context)
        figures = budget_figures_from_context(context)
        first, last = budgets.fiscal_year_bounds(budget.fiscal_year)
        currency = budget.currency
        used = figures.used_pct
        if used is None:
            used_html = None
        elif figures.over_budget:
            used_html = format_html('<span class="badge bg-danger">{}% — over budget</span>', used)
        else:
            used_html = format_html('<span class="badge bg-success">{}%</span>', used)
        return {
            "fiscal_year_span": f"{date_format(first)} – {date_format(last)}",
            "actual": f"{money.money_str(figures.actual)} {currency}",
            "committed": f"{money.money_str(figures.committed)} {currency}",
            "remaining": f"{money.money_str(figures.remaining)} {currency}",
            "used_pct": used_html,
        }

    def render_key(self, key, value, context):
        """Human labels for the computed keys."""
        return self.LABELS.get(key, super().render_key(key, value, context))


def _chart_number(amount):
    # ECharts draws numbers; the amounts are rounded to cents first, as everywhere they are shown.
    return float(money.round_money(amount))


def budget_month_bars(context):
    """Bars per fiscal month: invoiced (actual) and expected but not yet invoiced."""
    figures = budget_figures_from_context(context)
    return {
        "x": [first.strftime("%b %Y") for first, _, _ in figures.months],
        "series": [
            {"name": "Actual", "data": [_chart_number(actual) for _, actual, _ in figures.months]},
            {"name": "Committed, not invoiced", "data": [_chart_number(expected) for _, _, expected in figures.months]},
        ],
    }


def budget_month_lines(context):
    """Lines per fiscal month: committed so far (cumulative) against the budget."""
    figures = budget_figures_from_context(context)
    running, cumulative = 0, []
    for _, actual, expected in figures.months:
        running += actual + expected
        cumulative.append(_chart_number(running))
    return {
        "x": [first.strftime("%b %Y") for first, _, _ in figures.months],
        "series": [
            {"name": "Committed (cumulative)", "data": cumulative},
            {
                "name": "Budget",
                "data": [_chart_number(figures.amount)] * len(figures.months),
                "lineStyle": {"type": "dashed"},
            },
        ],
    }


#
# Layouts, one per model
#

service_provider_content = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            section=SectionChoices.LEFT_HALF,
            weight=100,
            fields="__all__",
            value_transforms={
                "support_email": [hyperlinked_email],
                "support_phone": [hyperlinked_phone_number],
            },
        ),
        ProviderBurnPanel(label="Monthly burn", section=SectionChoices.RIGHT_HALF, weight=100),
        EChartsPanel(
            label="Renewals per month (next 12 months, reporting currency)",
            section=SectionChoices.RIGHT_HALF,
            weight=200,
            chart_container_id="provider-renewals-by-month",
            chart_height="20rem",
            chart_class=StackedBarChart,
            chart_kwargs={"data": provider_renewals_chart_data, "x_label": "Month", "y_label": "Renewal value"},
            required_permissions=["nautobot_contracts.view_contract"],
        ),
        ObjectsTablePanel(
            section=SectionChoices.FULL_WIDTH,
            weight=200,
            table_class=tables.ContractTable,
            table_filter="provider",
            select_related_fields=["status", "tenant"],
            exclude_columns=["provider"],
            include_columns=["renewal_tier"],
        ),
    ),
)

contract_content = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            label="Contract",
            section=SectionChoices.LEFT_HALF,
            weight=100,
            fields=[
                "name",
                "contract_number",
                "provider",
                "status",
                "contract_type",
                "tenant",
                "start_date",
                "end_date",
                "auto_renew",
                "notice_period_days",
                "renewal_term_months",
                "alert_lead_days",
                "cost_center",
                "purchase_order",
                "description",
            ],  # fmt: skip
        ),
        ContractTermsPanel(label="Costs and renewal", section=SectionChoices.RIGHT_HALF, weight=100),
        EntitlementPanel(label="Entitlement", section=SectionChoices.RIGHT_HALF, weight=120),
        BillingPanel(label="Billing", section=SectionChoices.FULL_WIDTH, weight=140),
        EChartsPanel(
            label="Invoices over time",
            section=SectionChoices.RIGHT_HALF,
            weight=200,
            chart_container_id="contract-invoices-by-month",
            chart_height="20rem",
            chart_class=BarsWithLineChart,
            chart_kwargs={"data": contract_invoices_chart_data, "x_label": "Service month", "y_label": "Amount"},
            required_permissions=["nautobot_contracts.view_invoice"],
        ),
        RenewalOwnersPanel(section=SectionChoices.RIGHT_HALF, weight=150),
        ObjectsTablePanel(
            section=SectionChoices.FULL_WIDTH,
            weight=150,
            table_class=tables.ContractAlertTable,
            table_filter="contract",
            table_title="Alerts",
            select_related_fields=["contract__provider", "invoice"],
            exclude_columns=["contract", "provider"],
        ),
        ObjectsTablePanel(
            section=SectionChoices.FULL_WIDTH,
            weight=200,
            table_class=tables.InvoiceTable,
            table_filter="contract",
            select_related_fields=["status"],
            exclude_columns=["contract", "provider"],
        ),
        ObjectsTablePanel(
            section=SectionChoices.FULL_WIDTH,
            weight=300,
            table_class=tables.ContractAssignmentTable,
            table_filter="contract",
            table_title="Assignments",
            select_related_fields=["assigned_object_type"],
            prefetch_related_fields=["assigned_object"],
            exclude_columns=["contract", "provider"],
        ),
        ObjectsTablePanel(
            section=SectionChoices.FULL_WIDTH,
            weight=400,
            table_class=tables.ContractAttachmentTable,
            table_filter="contract",
            table_title="Attachments",
            exclude_columns=["contract"],
        ),
    ),
    extra_buttons=(
        AddChildButton(
            weight=100,
            label="Assign",
            icon="mdi-link-plus",
            color=ButtonColorChoices.BLUE,
            link_name="plugins:nautobot_contracts:contractassignment_add",
            parent_field="contract",
            required_permissions=["nautobot_contracts.add_contractassignment"],
        ),
        AddChildButton(
            weight=200,
            label="Add attachment",
            icon="mdi-paperclip",
            color=ButtonColorChoices.BLUE,
            link_name="plugins:nautobot_contracts:contractattachment_add",
            parent_field="contract",
            required_permissions=["nautobot_contracts.add_contractattachment"],
        ),
    ),
)

invoice_content = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            section=SectionChoices.LEFT_HALF,
            weight=100,
            fields=[
                "invoice_number",
                "contract",
                "contract__provider",
                "status",
                "invoice_date",
                "due_date",
                "period_start",
                "period_end",
                "amount",
                "currency",
                "paid_date",
                "description",
            ],  # fmt: skip
            key_transforms={"contract__provider": "Provider"},
        ),
        InvoiceBillingPanel(label="Billing", section=SectionChoices.RIGHT_HALF, weight=100),
        ObjectsTablePanel(
            section=SectionChoices.FULL_WIDTH,
            weight=200,
            table_class=tables.InvoiceAttachmentTable,
            table_filter="invoice",
            table_title="Attachments",
            exclude_columns=["invoice"],
        ),
    ),
    extra_buttons=(
        AddChildButton(
            weight=100,
            label="Add attachment",
            icon="mdi-paperclip",
            color=ButtonColorChoices.BLUE,
            link_name="plugins:nautobot_contracts:invoiceattachment_add",
            parent_field="invoice",
            required_permissions=["nautobot_contracts.add_invoiceattachment"],
        ),
    ),
)

contract_assignment_content = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            label="Assignment",
            section=SectionChoices.LEFT_HALF,
            weight=100,
            fields=[
                "contract",
                "contract__provider",
                "assigned_object_type",
                "assigned_object",
                "coverage_start",
                "coverage_end",
                "allocation_weight",
                "quantity",
            ],  # fmt: skip
            key_transforms={
                "contract__provider": "Provider",
                "assigned_object_type": "Object type",
                "assigned_object": "Object",
            },
            value_transforms={"assigned_object_type": [content_type_name]},
        ),
    ),
)


def attachment_content(parent_field, download_url_name):
    """The same layout for contract and invoice attachments."""
    return ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                label="Attachment",
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=[parent_field, "name", "file", "size", "mime_type", "sha256", "description"],
                key_transforms={"file": "File", "mime_type": "Content type"},
                value_transforms={
                    "file": [download_link(download_url_name)],
                    "size": [filesizeformat],
                },
            ),
        ),
    )


contract_attachment_content = attachment_content("contract", "plugins:nautobot_contracts:contractattachment_download")
invoice_attachment_content = attachment_content("invoice", "plugins:nautobot_contracts:invoiceattachment_download")

exchange_rate_content = ObjectDetailContent(
    panels=(ObjectFieldsPanel(section=SectionChoices.LEFT_HALF, weight=100, fields="__all__"),),
)

cost_snapshot_content = ObjectDetailContent(
    panels=(ObjectFieldsPanel(section=SectionChoices.LEFT_HALF, weight=100, fields="__all__"),),
)


def severity_badge(value):
    """The severity of an alert as its badge (detail page)."""
    from nautobot_contracts.choices import AlertSeverityChoices  # pylint: disable=import-outside-toplevel

    if not value:
        return placeholder(value)
    label = dict(AlertSeverityChoices.CHOICES).get(value, value)
    return tables.badge(AlertSeverityChoices.CSS_CLASSES.get(value, "secondary"), label)


def state_badge(value):
    """The state of an alert as its badge (detail page)."""
    from nautobot_contracts.choices import AlertStateChoices  # pylint: disable=import-outside-toplevel

    label = dict(AlertStateChoices.CHOICES).get(value, value)
    return tables.badge(AlertStateChoices.CSS_CLASSES.get(value, "secondary"), label)


contract_alert_content = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            label="Alert",
            section=SectionChoices.LEFT_HALF,
            weight=100,
            fields=[
                "kind",
                "severity",
                "state",
                "contract",
                "contract__provider",
                "invoice",
                "currency",
                "metric",
                "occasion",
                "due_date",
                "message",
            ],  # fmt: skip
            key_transforms={"contract__provider": "Provider"},
            value_transforms={"severity": [severity_badge], "state": [state_badge]},
        ),
        ObjectFieldsPanel(
            label="People",
            section=SectionChoices.RIGHT_HALF,
            weight=100,
            fields=[
                "first_seen",
                "last_seen",
                "acknowledged_by",
                "acknowledged_at",
                "ack_comment",
                "snoozed_until",
                "resolved_at",
                "notified_severity",
                "notified_at",
            ],  # fmt: skip
        ),
    ),
)

budget_content = ObjectDetailContent(
    panels=(
        ObjectFieldsPanel(
            label="Budget",
            section=SectionChoices.LEFT_HALF,
            weight=100,
            fields=["name", "fiscal_year", "currency", "amount", "tenant", "cost_center", "description"],
        ),
        BudgetFiguresPanel(label="Spend as of today", section=SectionChoices.RIGHT_HALF, weight=100),
        EChartsPanel(
            label="Actual and committed per month",
            section=SectionChoices.FULL_WIDTH,
            weight=200,
            chart_kwargs={
                "chart_type": EChartsTypeChoices.BAR,
                "header": "Actual and committed per fiscal month",
                "x_label": "Month",
                "y_label": "Amount",
                "data": budget_month_bars,
                "combined_with": EChartsBase(chart_type=EChartsTypeChoices.LINE, data=budget_month_lines),
            },
        ),
    ),
)
