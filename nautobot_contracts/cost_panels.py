"""A "Monthly cost" panel on the Location and Tenant detail pages: the cost allocated to them (services.allocation)."""

from django.utils.html import format_html
from nautobot.apps.templatetags import hyperlinked_object
from nautobot.apps.ui import DataTablePanel, SectionChoices
from nautobot.apps.views import get_obj_from_context

from nautobot_contracts import clock
from nautobot_contracts.services import allocation
from nautobot_contracts.services.money import money_str

COLUMNS = ("item", "currency", "monthly_cost", "converted")
COLUMN_HEADERS = ("", "Currency", "Monthly cost", "Converted")
NO_RATE = "no exchange rate"


def _converted(amount, currency):
    return NO_RATE if amount is None else f"{money_str(amount)} {currency}"


def figure_rows(label, figures, reporting):
    """One row per currency of `figures` (a CostFigures), each labelled (a blank cell would show as a dash)."""
    return [
        {
            "item": label,
            "currency": currency,
            "monthly_cost": money_str(amount),
            "converted": _converted(figures.converted.get(currency), reporting),
        }
        for currency, amount in figures.by_currency.items()
    ]


def cost_rows(cost):
    """The panel's rows for an ObjectCost: own (and including descendants), the converted total, top contracts."""
    reporting = cost.reporting_currency
    rows = figure_rows("Own", cost.own, reporting)
    overall = cost.own
    if cost.including_descendants is not None:
        rows += figure_rows("Including descendants", cost.including_descendants, reporting)
        overall = cost.including_descendants
    if not overall.by_currency:
        return []
    total = f"{money_str(overall.total)} {reporting}"
    if overall.unconverted:
        total += f" ({', '.join(overall.unconverted)} not converted: {NO_RATE})"
    rows.append({"item": format_html("<strong>{}</strong>", "Total"), "currency": None, "monthly_cost": None})
    rows[-1]["converted"] = total
    for index, share in enumerate(cost.top_contracts):
        rows.append(
            {
                "item": format_html(
                    "{}{}", "Top contracts: " if index == 0 else "", hyperlinked_object(share.contract, "name")
                ),
                "currency": share.currency,
                "monthly_cost": money_str(share.monthly_cost),
                "converted": _converted(share.converted_monthly_cost, reporting),
            }
        )
    return rows


class MonthlyCostPanel(DataTablePanel):
    """The monthly cost allocated today to a Location (own, including descendants) or a Tenant, as the viewer sees.

    Three queries at most (services.allocation.location_cost / tenant_cost), whatever the number of assignments.
    """

    context_data_key = "nautobot_contracts_monthly_cost"

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Monthly cost")
        kwargs.setdefault("section", SectionChoices.RIGHT_HALF)
        kwargs.setdefault("weight", 160)
        kwargs.setdefault("columns", list(COLUMNS))
        kwargs.setdefault("column_headers", list(COLUMN_HEADERS))
        kwargs.setdefault("required_permissions", ["nautobot_contracts.view_contract"])
        super().__init__(**kwargs)

    def get_extra_context(self, context):
        """Compute the rows for this object and viewer."""
        obj = get_obj_from_context(context)
        user = context["request"].user
        if obj._meta.label_lower == "dcim.location":
            cost = allocation.location_cost(obj, clock.today(), user=user)
        else:
            cost = allocation.tenant_cost(obj, clock.today(), user=user)
        context[self.context_data_key] = cost_rows(cost)
        return super().get_extra_context(context)
