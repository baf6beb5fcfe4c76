"""nautobot-contracts: vendor contracts, invoices, renewals, coverage and cost history for Nautobot."""

from importlib import metadata

from nautobot.apps import NautobotAppConfig

__version__ = metadata.version("nautobot-contracts")


class NautobotContractsConfig(NautobotAppConfig):
    """App configuration for nautobot-contracts."""

    name = "nautobot_contracts"
    verbose_name = "Contracts"
    version = __version__
    author = "nautobot-contracts developers"
    description = "Vendor contracts, invoices, renewals, coverage and cost history."
    base_url = "contracts"
    required_settings = []
    min_version = "3.2.0"
    max_version = "3.9999"
    # Every setting the app reads, with its default; docs/admin/settings.md describes each one.
    default_settings = {
        # Money
        "reporting_currency": "USD",
        # Renewals: notice-deadline tiers (days) and the renewal check's default window.
        "renewal_window_days": 90,
        "renewal_urgent_days": 14,
        "renewal_soon_days": 30,
        "default_renewal_term_months": 12,
        # Alerts: days before a notice deadline a renewal alert is raised (a contract's alert_lead_days overrides it);
        # the calendar feed's reminder (VALARM) fires this many days before each notice deadline too.
        "renewal_alert_days": 90,
        # Prometheus: the username whose view the /metrics gauges show; None = the whole installation's figures.
        "metrics_user": None,
        # Notifications: where digests of alerts without a renewal owner go; the base of the links in the digests.
        "notification_fallback_emails": [],
        "notification_base_url": "",
        # Billing: days after a billing period starts before a period without an invoice is missing; the month
        # (1..12) in which the fiscal year of budgets starts.
        "invoice_grace_days": 30,
        "fiscal_year_start_month": 1,
        # Coverage: contract types that count as device coverage unless a run says otherwise.
        "coverage_contract_types": ["support", "maintenance", "warranty"],
        # Assignments: the object types a contract may be attached to ("app_label.model").
        "assignable_models": [
            "dcim.device",
            "dcim.rack",
            "dcim.location",
            "circuits.circuit",
            "virtualization.virtualmachine",
            "virtualization.cluster",
            "tenancy.tenant",
            "tenancy.tenantgroup",
        ],
        # Attachments: private storage (never under MEDIA_ROOT). attachment_root defaults to NAUTOBOT_ROOT/attachments;
        # attachment_storage (a STORAGES alias, a dotted class path with attachment_storage_options, or a
        # {"BACKEND", "OPTIONS"} dict) replaces the file system storage, e.g. with S3.
        "attachment_root": None,
        "attachment_storage": None,
        "attachment_storage_options": {},
        "attachment_max_size_bytes": 25 * 1024 * 1024,
        "attachment_allowed_extensions": [
            "pdf",
            "doc",
            "docx",
            "xls",
            "xlsx",
            "odt",
            "ods",
            "csv",
            "txt",
            "md",
            "png",
            "jpg",
            "jpeg",
            "gif",
            "msg",
            "eml",
            "zip",
        ],  # fmt: skip
    }
    searchable_models = ["serviceprovider", "contract", "invoice"]
    docs_view_name = "plugins:nautobot_contracts:docs"
    # Prometheus gauges for Nautobot's /metrics (docs/admin/metrics.md); Nautobot's default path, stated on purpose.
    metrics = "metrics.metrics"
    # homepage.py: "Contracts needing action" and "Monthly burn" on Nautobot's home page.
    homepage_layout = "homepage.layout"

    def ready(self):
        """Connect signal handlers once the app registry is ready."""
        super().ready()
        # pylint: disable=import-outside-toplevel
        from django.db.models.signals import post_delete
        from nautobot.apps import nautobot_database_ready

        from nautobot_contracts import signals
        from nautobot_contracts.filter_extensions import register_short_alias
        from nautobot_contracts.models import ContractAttachment, InvoiceAttachment

        nautobot_database_ready.connect(signals.create_statuses, sender=self)
        nautobot_database_ready.connect(signals.create_renewal_owner_role, sender=self)
        register_short_alias()
        for model in (ContractAttachment, InvoiceAttachment):
            post_delete.connect(signals.remove_attachment_file, sender=model, dispatch_uid=f"{model.__name__}-file")


config = NautobotContractsConfig
