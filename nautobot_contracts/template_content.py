"""A "Contracts" panel on the detail pages of the core objects contracts attach to (UI Component Framework).

Locations and tenants also get the "Monthly cost" panel (cost_panels.py).
"""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import format_html
from nautobot.apps.templatetags import hyperlinked_object, hyperlinked_object_with_color, render_boolean
from nautobot.apps.ui import DataTablePanel, SectionChoices, TemplateExtension
from nautobot.apps.views import get_obj_from_context

from nautobot_contracts import clock
from nautobot_contracts.cost_panels import MonthlyCostPanel
from nautobot_contracts.services import coverage, terms

# The panel shows at most this many rows, most relevant first (covering, then direct, rack, ..., by contract name),
# so an object reached by hundreds of contracts renders as fast as one reached by three; the footer links the rest.
MAX_ROWS = 25
ASSIGNMENT_LIST_ROUTE = "plugins:nautobot_contracts:contractassignment_list"

COLUMNS = ("contract", "source", "provider", "type", "status", "term_end", "notice_deadline", "covers")
COLUMN_HEADERS = ("Contract", "Source", "Provider", "Type", "Status", "Term end", "Notice deadline", "Covers today")


def source_html(entry):
    """The word "Direct", or the kind of object the contract reaches this one through, linked to that object."""
    if entry.is_direct:
        return "Direct"
    return format_html("{} {}", entry.source.capitalize(), hyperlinked_object(entry.via, "name"))


def coverage_row(entry, as_of):
    """One table row for a coverage entry; term end and notice deadline come from services.terms."""
    contract = entry.contract
    figures = terms.term_figures(contract, as_of)
    return {
        "contract": hyperlinked_object(contract, "name"),
        "source": source_html(entry),
        "provider": hyperlinked_object(contract.provider, "name"),
        "type": contract.get_contract_type_display(),
        "status": hyperlinked_object_with_color(contract.status),
        "term_end": figures.current_term_end.isoformat(),
        "notice_deadline": figures.notice_deadline.isoformat() if figures.notice_deadline else "—",
        "covers": render_boolean(entry.covers),
    }


class ContractCoveragePanel(DataTablePanel):
    """The contracts assigned to the object or covering it (directly or inherited), as the viewer may see them."""

    context_data_key = "nautobot_contracts_coverage"
    total_key = "nautobot_contracts_coverage_total"
    max_rows = MAX_ROWS

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Contracts")
        kwargs.setdefault("section", SectionChoices.FULL_WIDTH)
        kwargs.setdefault("weight", 150)
        kwargs.setdefault("columns", list(COLUMNS))
        kwargs.setdefault("column_headers", list(COLUMN_HEADERS))
        kwargs.setdefault("required_permissions", ["nautobot_contracts.view_contract"])
        super().__init__(**kwargs)

    def get_extra_context(self, context):
        """Compute the rows for this object and viewer."""
        obj = get_obj_from_context(context)
        as_of = clock.today()
        entries, total = coverage.coverage_page(obj, self.max_rows, as_of=as_of, user=context["request"].user)
        return {
            **super().get_extra_context(context),
            "data": [coverage_row(entry, as_of) for entry in entries],
            self.total_key: total,
        }

    def render_footer_content(self, context):
        """When rows were left out: how many, and a link to the full list of the object's assignments."""
        total, shown = context.get(self.total_key, 0), len(context.get("data") or ())
        if total <= shown:
            return super().render_footer_content(context)
        obj = get_obj_from_context(context)
        url = f"{reverse(ASSIGNMENT_LIST_ROUTE)}?{urlencode({'assigned_object_id': obj.pk})}"
        return format_html(
            '<span class="text-muted">Showing the {} most relevant of {} contracts.</span> '
            '<a href="{}" class="nautobot-contracts-all-assignments">All contracts assigned to this {}</a>',
            shown,
            total,
            url,
            obj._meta.verbose_name,
        )


# Panels shown after the Contracts panel on some pages.
EXTRA_PANELS = {"dcim.location": (MonthlyCostPanel,), "tenancy.tenant": (MonthlyCostPanel,)}


def _extension(model_label):
    """A TemplateExtension adding the Contracts panel (and EXTRA_PANELS) to `model_label`'s detail page."""
    app_label, model = model_label.split(".")
    return type(
        f"{model.capitalize()}ContractsPanel",
        (TemplateExtension,),
        {
            "__doc__": f"The Contracts panel on the {model_label} detail page.",
            "model": model_label,
            "object_detail_panels": (
                ContractCoveragePanel(),
                *(panel() for panel in EXTRA_PANELS.get(model_label, ())),
            ),
        },
    )


template_extensions = [
    _extension(label)
    for label in (
        "dcim.device",
        "dcim.rack",
        "dcim.location",
        "circuits.circuit",
        "virtualization.virtualmachine",
        "tenancy.tenant",
    )
]
