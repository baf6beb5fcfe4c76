"""A "Contracts" panel on the detail pages of the core objects contracts attach to (UI Component Framework)."""

from django.utils.html import format_html
from nautobot.apps.templatetags import hyperlinked_object, hyperlinked_object_with_color, render_boolean
from nautobot.apps.ui import DataTablePanel, SectionChoices, TemplateExtension
from nautobot.apps.views import get_obj_from_context

from nautobot_contracts import clock
from nautobot_contracts.services import coverage, terms

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
        entries = coverage.coverage_for(obj, as_of=as_of, user=context["request"].user)
        return {**super().get_extra_context(context), "data": [coverage_row(entry, as_of) for entry in entries]}


def _extension(model_label):
    """A TemplateExtension adding the Contracts panel to `model_label`'s detail page."""
    app_label, model = model_label.split(".")
    return type(
        f"{model.capitalize()}ContractsPanel",
        (TemplateExtension,),
        {
            "__doc__": f"The Contracts panel on the {model_label} detail page.",
            "model": model_label,
            "object_detail_panels": (ContractCoveragePanel(),),
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
