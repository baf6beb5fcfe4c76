"""The Contracts dashboard: counters, charts and the notice-deadline table, as UI Component Framework panels.

The view parses and validates the GET inputs (`as_of`, `tenant`, `provider`), computes every figure once with
`services.dashboard.dashboard()` and renders the panels below; each panel only formats what the service returned.
"""

import datetime
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from nautobot.apps.forms import BootstrapMixin, DatePicker, DynamicModelChoiceField
from nautobot.apps.ui import DataTablePanel, EChartsPanel, EChartsTypeChoices, SectionChoices, StatsPanel
from nautobot.apps.views import GenericView
from nautobot.tenancy.models import Tenant

from nautobot_contracts import clock
from nautobot_contracts.charts import ContractsChart, HorizontalBarChart, StackedBarChart, chart_amount
from nautobot_contracts.models import ServiceProvider
from nautobot_contracts.services import dashboard as figures
from nautobot_contracts.services.money import money_str
from nautobot_contracts.ui import tier_badge

# as_of is bounded so that "12 months from as_of" and the term arithmetic always stay inside valid dates.
MIN_AS_OF = datetime.date(1900, 1, 1)
MAX_AS_OF = datetime.date(9000, 12, 31)


class DashboardFilterForm(BootstrapMixin, forms.Form):
    """The dashboard's inputs, as GET parameters so a view can be bookmarked."""

    as_of = forms.DateField(required=False, label="As of", widget=DatePicker())
    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)
    provider = DynamicModelChoiceField(queryset=ServiceProvider.objects.all(), required=False)

    def __init__(self, *args, user=None, **kwargs):
        """Offer (and accept) only the tenants and providers `user` may view."""
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["tenant"].queryset = Tenant.objects.restrict(user, "view")
            self.fields["provider"].queryset = ServiceProvider.objects.restrict(user, "view")

    def clean_as_of(self):
        """Default today; refuse dates the term arithmetic cannot handle."""
        as_of = self.cleaned_data.get("as_of") or clock.today()
        if not MIN_AS_OF <= as_of <= MAX_AS_OF:
            raise forms.ValidationError(f"Choose a date between {MIN_AS_OF.isoformat()} and {MAX_AS_OF.isoformat()}.")
        return as_of


def money_html(converted_figure):
    """A converted total such as 12345.00 USD, noting "n currencies unconverted" when rates are missing."""
    text = f"{money_str(converted_figure.total)} {converted_figure.currency}"
    missing = len(converted_figure.unconverted)
    if not missing:
        return text
    noun = "currency" if missing == 1 else "currencies"
    return format_html(
        '{}<br><small class="text-warning" title="No exchange rate on this date: {}">{} {} unconverted</small>',
        text,
        ", ".join(converted_figure.unconverted),
        missing,
        noun,
    )


def _list_url(view_name, **params):
    params = {key: value for key, value in params.items() if value not in (None, "")}
    url = reverse(view_name)
    return f"{url}?{urlencode(params)}" if params else url


class CountersPanel(StatsPanel):
    """The dashboard's counters: one figure per box, each linked to the list it summarizes where there is one."""

    body_content_template_path = "nautobot_contracts/inc/dashboard_counters.html"
    filter_name = "dashboard"  # required by StatsPanel; the counters are not per-object

    def render_body_content(self, context):
        """Render the counters computed by the view (StatsPanel's own body counts related objects of an object)."""
        data = context["dashboard"]
        scope = context["dashboard_scope"]
        counts = data.tier_counts
        counters = [
            {
                "label": "Active contracts",
                "value": data.active_contracts,
                "url": _list_url("plugins:nautobot_contracts:contract_list", status="Active", **scope),
            },
            {"label": "Monthly burn", "value": money_html(data.burn)},
            {"label": "Renewal forecast (90 days)", "value": money_html(data.forecast_90d)},
            {
                "label": "Contracts needing action",
                "value": len(data.needing_action),
                "detail": f"{counts['missed']} missed · {counts['urgent']} urgent · {counts['soon']} soon",
            },
            {
                "label": "Uncovered devices",
                "value": data.uncovered_devices,
                "url": _list_url("dcim:device_list", has_contract_coverage="false", tenant=scope.get("tenant")),
            },
            {
                "label": "Open alerts",
                "value": sum(data.open_alerts.values()),
                "detail": " · ".join(f"{count} {severity}" for severity, count in data.open_alerts.items() if count),
                "url": _list_url("plugins:nautobot_contracts:contractalert_list", state="open"),
            },
            {
                "label": "Overdue invoices",
                "value": data.overdue_invoices,
                "url": _list_url(
                    "plugins:nautobot_contracts:invoice_list", status="Open", due_date__lt=data.as_of.isoformat()
                ),
            },
        ]
        with context.update({"counters": counters}):
            # Panel's own body rendering (the template above), skipping StatsPanel's related-object counts.
            return super(StatsPanel, self).render_body_content(context)


def _series(values):
    """Chart values: money rounded half-up to cents for display."""
    return [chart_amount(value) for value in values]


def burn_chart_data(context):
    """Monthly burn per currency (each in its own currency)."""
    by_currency = context["dashboard"].burn.by_currency
    return {"x": list(by_currency), "series": [{"name": "Monthly burn", "data": _series(by_currency.values())}]}


def renewals_chart_data(context):
    """Renewal value per month for the next 12 months, one stacked series per currency, converted."""
    months = context["dashboard"].renewals_by_month
    currencies = sorted({code for figure in months.values() for code in figure.by_currency})
    # A currency without a rate has no bar (the panel says which): never stacked at 1:1.
    series = [
        {"name": code, "data": [chart_amount(figure.converted.get(code, 0)) for figure in months.values()]}
        for code in currencies
        if any(code in figure.converted for figure in months.values())
    ]
    return {"x": list(months), "series": series}


def providers_chart_data(context):
    """The top providers by monthly burn, converted into the reporting currency."""
    top = context["dashboard"].top_providers
    return {
        "x": [name for _, name, _ in top],
        "series": [{"name": "Monthly burn", "data": _series(figure.total for _, _, figure in top)}],
    }


def history_chart_data(context):
    """Monthly burn per currency from the cost snapshots (one line per currency, gaps left empty)."""
    history = context["dashboard"].cost_history
    dates = sorted({day for points in history.values() for day in points})
    return {
        "x": [day.isoformat() for day in dates],
        "series": [
            {
                "name": code,
                "data": [chart_amount(points[day]) if day in points else None for day in dates],
            }
            for code, points in sorted(history.items())
        ],
    }


def locations_chart_data(context):
    """Devices without coverage per top-level location (the ten with most)."""
    rows = context["dashboard"].uncovered_by_location
    return {
        "x": [name for _, name, _ in rows],
        "series": [{"name": "Uncovered devices", "data": [count for _, _, count in rows]}],
    }


def deadline_rows(data):
    """The notice-deadline table's rows, linked to the contract and provider."""
    rows = []
    for row in data.deadlines:
        contract = row.contract
        provider = contract.provider
        rows.append(
            {
                "name": format_html('<a href="{}">{}</a>', contract.get_absolute_url(), contract.name),
                "provider": format_html('<a href="{}">{}</a>', provider.get_absolute_url(), provider.name)
                if row.provider_visible
                else figures.HIDDEN,
                "tier": tier_badge(row.tier),
                "deadline": f"{date_format(row.notice_deadline)} (in {(row.notice_deadline - data.as_of).days} days)",
                "renewal_value": f"{money_str(row.renewal_value)} {contract.currency}",
            }
        )
    return rows


def budget_rows(data):
    """The budgets table's rows: this fiscal year's budgets with actual, committed, remaining and used %."""
    rows = []
    for budget, figure in data.budgets:
        used = figure.used_pct
        css = "bg-danger" if figure.over_budget else "bg-success"
        rows.append(
            {
                "name": format_html('<a href="{}">{}</a>', budget.get_absolute_url(), budget.name),
                "scope": " · ".join(str(part) for part in (budget.tenant, budget.cost_center) if part) or "—",
                "amount": f"{money_str(budget.amount)} {budget.currency}",
                "actual": f"{money_str(figure.actual)} {budget.currency}",
                "committed": f"{money_str(figure.committed)} {budget.currency}",
                "remaining": f"{money_str(figure.remaining)} {budget.currency}",
                "used": None
                if used is None
                else format_html(
                    '<span class="badge {}">{}%{}</span>', css, used, " over budget" if figure.over_budget else ""
                ),
            }
        )
    return rows


def _chart(container_id, header, data, x_label, y_label, section, weight, chart_class=None, **kwargs):
    return EChartsPanel(
        label=header,
        section=section,
        weight=weight,
        chart_container_id=container_id,
        chart_height="22rem",
        chart_class=chart_class or ContractsChart,
        chart_kwargs={"data": data, "x_label": x_label, "y_label": y_label, **kwargs},
    )


dashboard_panels = (
    CountersPanel(label="At a glance", section=SectionChoices.FULL_WIDTH, weight=100),
    _chart(
        "contracts-burn-by-currency",
        "Monthly burn per currency",
        burn_chart_data,
        "Currency",
        "Per month",
        SectionChoices.LEFT_HALF,
        200,
        legend={"show": False},
    ),
    _chart(
        "contracts-renewals-by-month",
        "Renewal forecast per month",
        renewals_chart_data,
        "Month",
        "Reporting currency",
        SectionChoices.RIGHT_HALF,
        200,
        chart_class=StackedBarChart,
    ),
    _chart(
        "contracts-top-providers",
        "Top 10 providers by monthly burn",
        providers_chart_data,
        "Provider",
        "Reporting currency",
        SectionChoices.LEFT_HALF,
        300,
        chart_class=HorizontalBarChart,
        legend={"show": False},
    ),
    _chart(
        "contracts-uncovered-by-location",
        "Devices without coverage per top-level location",
        locations_chart_data,
        "Location",
        "Devices",
        SectionChoices.RIGHT_HALF,
        300,
        chart_class=HorizontalBarChart,
        legend={"show": False},
    ),
    _chart(
        "contracts-cost-history",
        "Cost history (monthly burn per currency, from the cost snapshots)",
        history_chart_data,
        "Snapshot date",
        "Per month",
        SectionChoices.FULL_WIDTH,
        400,
        chart_type=EChartsTypeChoices.LINE,
    ),
    DataTablePanel(
        label="Next notice deadlines",
        section=SectionChoices.FULL_WIDTH,
        weight=500,
        context_data_key="dashboard_deadlines",
        columns=["name", "provider", "tier", "deadline", "renewal_value"],
        column_headers=["Contract", "Provider", "Tier", "Notice deadline", "Renewal value"],
    ),
    DataTablePanel(
        label="Budgets this fiscal year",
        section=SectionChoices.FULL_WIDTH,
        weight=600,
        context_data_key="dashboard_budgets",
        columns=["name", "scope", "amount", "actual", "committed", "remaining", "used"],
        column_headers=["Name", "Tenant / cost center", "Budget", "Actual", "Committed", "Remaining", "Used"],
    ),
)


def panels_by_section(panels):
    """{section: panels sorted by weight} for the page template."""
    return {
        section: sorted((panel for panel in panels if panel.section == section), key=lambda panel: panel.weight)
        for section in (SectionChoices.LEFT_HALF, SectionChoices.RIGHT_HALF, SectionChoices.FULL_WIDTH)
    }


class DashboardView(GenericView):
    """/plugins/contracts/dashboard/: the figures for the viewer, on a date, optionally for a tenant or provider."""

    template_name = "nautobot_contracts/dashboard.html"
    panels = dashboard_panels

    def get(self, request):
        """Validate the inputs (400 with the reasons when bad), then compute and render every panel."""
        form = DashboardFilterForm(request.GET or None, user=request.user)
        context = {"title": "Contracts dashboard", "filter_form": form}
        if request.GET and not form.is_valid():
            return render(request, self.template_name, context, status=400)
        cleaned = form.cleaned_data if request.GET else {}
        as_of = cleaned.get("as_of") or clock.today()
        tenant, provider = cleaned.get("tenant"), cleaned.get("provider")
        data = figures.dashboard(as_of, user=request.user, tenant=tenant, provider=provider)
        scope = {"tenant": tenant.pk if tenant else None, "provider": provider.pk if provider else None}
        sections = panels_by_section(self.panels)
        context.update(
            {
                "dashboard": data,
                "dashboard_scope": {key: value for key, value in scope.items() if value},
                "dashboard_deadlines": deadline_rows(data),
                "dashboard_budgets": budget_rows(data),
                "as_of": as_of,
                # Full-width panels weighted below the halves' lightest panel go on top (the counters).
                "top_panels": [panel for panel in sections[SectionChoices.FULL_WIDTH] if panel.weight < 200],
                "left_half_panels": sections[SectionChoices.LEFT_HALF],
                "right_half_panels": sections[SectionChoices.RIGHT_HALF],
                "full_width_panels": [panel for panel in sections[SectionChoices.FULL_WIDTH] if panel.weight >= 200],
            }
        )
        return render(request, self.template_name, context)
