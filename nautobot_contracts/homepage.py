"""Home-page panels (Nautobot's home layout): contracts needing action, monthly burn and open alerts, for the viewer.

Nautobot's home view calls each `custom_data` callback with the request, whatever the viewer's permissions, so every
callback restricts to `request.user`; the panels themselves are shown only to users who may view contracts.
"""

from nautobot.apps.ui import HomePagePanel

from nautobot_contracts import clock
from nautobot_contracts.choices import AlertSeverityChoices
from nautobot_contracts.services import alerts, dashboard
from nautobot_contracts.services.money import money_str

VIEW_CONTRACT = ["nautobot_contracts.view_contract"]
VIEW_ALERT = ["nautobot_contracts.view_contractalert"]
OPEN_ALERTS_LIMIT = 10


def _may_view_contracts(request):
    """Whether the panels are shown at all (Nautobot calls the callbacks before it filters panels by permission)."""
    return request.user.has_perms(VIEW_CONTRACT)


def contracts_needing_action(request):
    """The ten missed/urgent/soon contracts with the nearest notice deadline, as rows for the panel."""
    as_of = clock.today()
    if not _may_view_contracts(request):
        return {"as_of": as_of, "total": 0, "rows": []}
    items = dashboard.needing_action(as_of, user=request.user)
    return {
        "as_of": as_of,
        "total": len(items),
        "rows": [
            {
                "url": item.contract.get_absolute_url(),
                "name": item.contract.name,
                "tier": item.tier,
                "deadline": item.notice_deadline,
                "when": f"in {item.days_to_deadline} days"
                if item.days_to_deadline >= 0
                else f"{-item.days_to_deadline} days ago",
                "value": f"{money_str(item.renewal_value)} {item.contract.currency}",
            }
            for item in items[: dashboard.NEEDS_ACTION_LIMIT]
        ],
    }


def monthly_burn(request):
    """Monthly burn per currency and the converted total, formatted for the panel."""
    if not _may_view_contracts(request):
        return {"rows": [], "total": "", "unconverted": []}
    summary = dashboard.burn_summary(clock.today(), user=request.user)
    return {
        "rows": [(code, money_str(amount)) for code, amount in summary.by_currency.items()],
        "total": f"{money_str(summary.total)} {summary.currency}",
        "unconverted": summary.unconverted,
    }


def open_alerts(request):
    """The ten most severe alerts needing action (open, not snoozed) the viewer may see, as rows for the panel."""
    if not request.user.has_perms(VIEW_ALERT):
        return {"total": 0, "rows": []}
    rows, total = alerts.alerts_needing_action(clock.today(), user=request.user, limit=OPEN_ALERTS_LIMIT)
    return {
        "total": total,
        "rows": [
            {
                "url": alert.get_absolute_url(),
                "message": alert.message,
                "severity": alert.severity,
                "css": AlertSeverityChoices.CSS_CLASSES.get(alert.severity, "secondary"),
                "due_date": alert.due_date,
            }
            for alert in rows
        ],
    }


layout = (
    HomePagePanel(
        name="Contracts needing action",
        permissions=VIEW_CONTRACT,
        weight=250,
        custom_data={"contracts_needing_action": contracts_needing_action},
        custom_template="panel_contracts_needing_action.html",
    ),
    HomePagePanel(
        name="Monthly burn",
        permissions=VIEW_CONTRACT,
        weight=260,
        custom_data={"contracts_monthly_burn": monthly_burn},
        custom_template="panel_contracts_monthly_burn.html",
    ),
    HomePagePanel(
        name="Open alerts",
        permissions=VIEW_ALERT,
        weight=270,
        custom_data={"contracts_open_alerts": open_alerts},
        custom_template="panel_contracts_open_alerts.html",
    ),
)
