"""Read the app's settings (PLUGINS_CONFIG["nautobot_contracts"], defaults in NautobotContractsConfig)."""

from typing import NamedTuple

from django.conf import settings
from django.db.models import Q

APP_NAME = "nautobot_contracts"


def get_setting(name):
    """Return one app setting; Nautobot has already merged the defaults into PLUGINS_CONFIG."""
    from nautobot_contracts import NautobotContractsConfig  # pylint: disable=import-outside-toplevel

    app_config = settings.PLUGINS_CONFIG.get(APP_NAME, {})
    if name in app_config:
        return app_config[name]
    return NautobotContractsConfig.default_settings[name]


def default_renewal_term_months():
    """Default for a new contract's renewal term (setting `default_renewal_term_months`)."""
    return get_setting("default_renewal_term_months")


class RenewalThresholds(NamedTuple):
    """The renewal tiers' thresholds in days (docs/user/app-overview.md, the rules)."""

    window_days: int
    urgent_days: int
    soon_days: int


def renewal_thresholds(window_days=None, urgent_days=None, soon_days=None):
    """(window, urgent, soon) in days: explicit values, else the app's settings; a negative value is a ValueError.

    The settings are `renewal_window_days`, `renewal_urgent_days` and `renewal_soon_days`. This is the one place they
    are read: the Python and SQL tier rules (services.terms) and the renewal check (services.renewals) call it.
    """
    thresholds = RenewalThresholds(
        get_setting("renewal_window_days") if window_days is None else window_days,
        get_setting("renewal_urgent_days") if urgent_days is None else urgent_days,
        get_setting("renewal_soon_days") if soon_days is None else soon_days,
    )
    for label, value in thresholds._asdict().items():
        if value < 0:
            raise ValueError(f"{label} must be zero or more, not {value}.")
    return thresholds


def assignable_model_labels():
    """The "app_label.model" names contracts may be assigned to, lower-cased."""
    return [label.lower() for label in get_setting("assignable_models")]


def assignable_content_types_q():
    """A Q over ContentType matching the assignable models (used as limit_choices_to)."""
    query = Q(pk__in=[])
    for label in assignable_model_labels():
        app_label, model = label.split(".", 1)
        query |= Q(app_label=app_label, model=model)
    return query


def renewal_alert_days():
    """Default lead time of renewal alerts (setting `renewal_alert_days`); a contract's alert_lead_days overrides it."""
    return get_setting("renewal_alert_days")
