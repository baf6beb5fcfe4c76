"""Choice sets shared by models, forms, filters and the service layer."""

from nautobot.apps.choices import ChoiceSet


class ContractTypeChoices(ChoiceSet):
    """What a contract pays for; support, maintenance and warranty count as device coverage by default."""

    TYPE_SUPPORT = "support"
    TYPE_MAINTENANCE = "maintenance"
    TYPE_WARRANTY = "warranty"
    TYPE_LICENSE = "license"
    TYPE_SUBSCRIPTION = "subscription"
    TYPE_CIRCUIT = "circuit"
    TYPE_COLOCATION = "colocation"
    TYPE_MANAGED_SERVICE = "managed_service"
    TYPE_OTHER = "other"

    CHOICES = (
        (TYPE_SUPPORT, "Support"),
        (TYPE_MAINTENANCE, "Maintenance"),
        (TYPE_WARRANTY, "Warranty"),
        (TYPE_LICENSE, "License"),
        (TYPE_SUBSCRIPTION, "Subscription"),
        (TYPE_CIRCUIT, "Circuit"),
        (TYPE_COLOCATION, "Colocation"),
        (TYPE_MANAGED_SERVICE, "Managed service"),
        (TYPE_OTHER, "Other"),
    )


class BillingPeriodChoices(ChoiceSet):
    """How often the recurring cost is billed."""

    PERIOD_MONTHLY = "monthly"
    PERIOD_QUARTERLY = "quarterly"
    PERIOD_SEMIANNUAL = "semiannual"
    PERIOD_ANNUAL = "annual"
    PERIOD_ONE_TIME = "one_time"

    CHOICES = (
        (PERIOD_MONTHLY, "Monthly"),
        (PERIOD_QUARTERLY, "Quarterly"),
        (PERIOD_SEMIANNUAL, "Semi-annual"),
        (PERIOD_ANNUAL, "Annual"),
        (PERIOD_ONE_TIME, "One-time"),
    )

    # Months covered by one bill; a one-time contract has no recurring months (monthly cost 0).
    MONTHS = {
        PERIOD_MONTHLY: 1,
        PERIOD_QUARTERLY: 3,
        PERIOD_SEMIANNUAL: 6,
        PERIOD_ANNUAL: 12,
        PERIOD_ONE_TIME: None,
    }


# Statuses the app creates and binds to its models: (name, color, description).
CONTRACT_STATUSES = (
    ("Active", "4caf50", "In force"),
    ("Pending", "ffc107", "Signed or in negotiation, not yet in force"),
    ("Expired", "9e9e9e", "Term ended without renewal"),
    ("Cancelled", "f44336", "Terminated; kept as a financial record"),
)
INVOICE_STATUSES = (
    ("Open", "2196f3", "Received, not yet paid"),
    ("Paid", "4caf50", "Paid in full"),
    ("Disputed", "ff9800", "Under dispute with the provider"),
    ("Cancelled", "f44336", "Voided"),
)


class AlertKindChoices(ChoiceSet):
    """What an alert is about (DOMAIN.md "Alerts"); each kind has its own subject."""

    KIND_RENEWAL_NOTICE = "renewal_notice"
    KIND_COST_ANOMALY = "cost_anomaly"
    KIND_INVOICE_OVERDUE = "invoice_overdue"

    CHOICES = (
        (KIND_RENEWAL_NOTICE, "Renewal notice"),
        (KIND_COST_ANOMALY, "Cost anomaly"),
        (KIND_INVOICE_OVERDUE, "Invoice overdue"),
    )


class AlertSeverityChoices(ChoiceSet):
    """How pressing an alert is, in rising order (the renewal tiers)."""

    SEVERITY_UPCOMING = "upcoming"
    SEVERITY_SOON = "soon"
    SEVERITY_URGENT = "urgent"
    SEVERITY_MISSED = "missed"

    CHOICES = (
        (SEVERITY_UPCOMING, "Upcoming"),
        (SEVERITY_SOON, "Soon"),
        (SEVERITY_URGENT, "Urgent"),
        (SEVERITY_MISSED, "Missed"),
    )

    # Rank of each severity: a rise re-opens an acknowledged alert (and is notified again).
    RANK = {SEVERITY_UPCOMING: 1, SEVERITY_SOON: 2, SEVERITY_URGENT: 3, SEVERITY_MISSED: 4}
    # Badge colours (Bootstrap contextual classes) for tables and detail pages.
    CSS_CLASSES = {
        SEVERITY_UPCOMING: "info",
        SEVERITY_SOON: "warning",
        SEVERITY_URGENT: "danger",
        SEVERITY_MISSED: "dark",
    }


class AlertStateChoices(ChoiceSet):
    """Where an alert stands: open -> acknowledged (by a person) -> resolved (by the Job that raised it)."""

    STATE_OPEN = "open"
    STATE_ACKNOWLEDGED = "acknowledged"
    STATE_RESOLVED = "resolved"

    CHOICES = (
        (STATE_OPEN, "Open"),
        (STATE_ACKNOWLEDGED, "Acknowledged"),
        (STATE_RESOLVED, "Resolved"),
    )

    CSS_CLASSES = {STATE_OPEN: "danger", STATE_ACKNOWLEDGED: "warning", STATE_RESOLVED: "success"}


class EntitlementUnitChoices(ChoiceSet):
    """What a contract's entitlement `quantity` counts (DOMAIN.md "Cost allocation and entitlements")."""

    UNIT_DEVICES = "devices"
    UNIT_SEATS = "seats"
    UNIT_LICENCES = "licences"
    UNIT_PORTS = "ports"
    UNIT_USERS = "users"
    UNIT_OTHER = "other"

    CHOICES = (
        (UNIT_DEVICES, "Devices"),
        (UNIT_SEATS, "Seats"),
        (UNIT_LICENCES, "Licences"),
        (UNIT_PORTS, "Ports"),
        (UNIT_USERS, "Users"),
        (UNIT_OTHER, "Other"),
    )
