"""Nautobot features every primary model of the app takes part in (Contract and Invoice add "statuses")."""

PRIMARY_MODEL_FEATURES = (
    "custom_fields",
    "custom_links",
    "custom_validators",
    "export_templates",
    "graphql",
    "relationships",
    "webhooks",
)
