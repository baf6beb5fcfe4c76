"""The "Contracts" navigation tab."""

from nautobot.apps.ui import NavMenuAddButton, NavMenuGroup, NavMenuImportButton, NavMenuItem, NavMenuTab

APP = "nautobot_contracts"


def _item(model_name, name, weight, add=True, csv_import=True):
    """A menu item for one model's list, with add/import buttons shown to users who may add."""
    buttons = ()
    permissions = [f"{APP}.add_{model_name}"]
    if add:
        buttons += (NavMenuAddButton(link=f"plugins:{APP}:{model_name}_add", permissions=permissions),)
    if add and csv_import:
        buttons += (NavMenuImportButton(link=f"plugins:{APP}:{model_name}_import", permissions=permissions),)
    return NavMenuItem(
        link=f"plugins:{APP}:{model_name}_list",
        name=name,
        weight=weight,
        permissions=[f"{APP}.view_{model_name}"],
        buttons=buttons,
    )


menu_items = (
    NavMenuTab(
        name="Contracts",
        icon="credit-card",
        weight=425,
        groups=(
            NavMenuGroup(
                name="Contracts",
                weight=100,
                items=(
                    # Figures restricted per viewer: any user who may view contracts sees their own dashboard.
                    NavMenuItem(
                        link=f"plugins:{APP}:dashboard",
                        name="Dashboard",
                        weight=50,
                        permissions=[f"{APP}.view_contract"],
                    ),
                    _item("serviceprovider", "Service providers", 100),
                    _item("contract", "Contracts", 200),
                    _item("invoice", "Invoices", 300),
                    _item("contractassignment", "Assignments", 400),
                    # Raised and resolved by the Jobs: no add or import.
                    _item("contractalert", "Alerts", 500, add=False),
                ),
            ),
            NavMenuGroup(
                name="Renewals",
                weight=150,
                items=(
                    NavMenuItem(
                        link=f"plugins:{APP}:calendar",
                        name="Calendar",
                        weight=100,
                        permissions=[f"{APP}.view_contract"],
                    ),
                    # Every user manages their own tokens; the feed shows only what its owner may view.
                    NavMenuItem(link=f"plugins:{APP}:feedtoken_list", name="Feed tokens", weight=200),
                ),
            ),
            NavMenuGroup(
                name="Attachments",
                weight=200,
                items=(
                    # Files are uploaded through the add form; CSV cannot carry them.
                    _item("contractattachment", "Contract attachments", 100, csv_import=False),
                    _item("invoiceattachment", "Invoice attachments", 200, csv_import=False),
                ),
            ),
            NavMenuGroup(
                name="Costs",
                weight=300,
                items=(
                    _item("exchangerate", "Exchange rates", 100),
                    _item("budget", "Budgets", 150),
                    # Written only by the snapshot Job: no add or import.
                    _item("costsnapshot", "Cost snapshots", 200, add=False),
                ),
            ),
        ),
    ),
)
