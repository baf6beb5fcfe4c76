"""Read the app's settings (PLUGINS_CONFIG["nautobot_contracts"], defaults in NautobotContractsConfig)."""

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
