"""Who gets told what: renewal owners, their e-mail addresses, and digests of the alerts they have not been told about.

DOMAIN.md "Alerts": the renewal owners of a contract are the Contacts and Teams associated with it in the role
"Renewal owner"; alerts with no owner go to the `notification_fallback_emails` setting; an alert is mailed once per
severity (new, or its severity rose since `notified_severity`). Everything here is set-based: the number of queries
depends on the number of recipients that are Nautobot users, never on the number of alerts.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone
from nautobot.extras.models import Contact, ContactAssociation, Role, Team

from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.choices import AlertSeverityChoices
from nautobot_contracts.links import ObjectLinks
from nautobot_contracts.models import Contract, ContractAlert, Invoice
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.alerts import needs_action_q

RENEWAL_OWNER_ROLE = "Renewal owner"
RENEWAL_OWNER_ROLE_COLOR = "2196f3"  # Material blue, like the app's other badges
RENEWAL_OWNER_ROLE_DESCRIPTION = "Told about the contract's renewal, cost and invoice alerts (nautobot-contracts)"

TEXT_TEMPLATE = "nautobot_contracts/email/digest.txt"
HTML_TEMPLATE = "nautobot_contracts/email/digest.html"
SUBJECT_PREFIX = "[Nautobot contracts]"


def _rank(field_name):
    """The rank of a severity column (AlertSeverityChoices.RANK), 0 when blank: never notified."""
    return Case(
        *(When(**{field_name: severity}, then=Value(rank)) for severity, rank in AlertSeverityChoices.RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def notifiable_alerts(as_of, user=None, lock=False):
    """The alerts to notify on `as_of` that `user` may view, with their contract, provider and invoice, in one query.

    Alerts needing action (`services.alerts.needs_action_q`: open, not snoozed) that are new (never notified) or whose
    severity rose since they were notified. `lock=True` (inside a transaction) locks the rows and skips rows another
    run has locked, so two overlapping runs never mail the same alert.
    """
    candidates = (
        restrict(ContractAlert.objects.all(), user)
        .filter(needs_action_q(as_of))
        .alias(rank=_rank("severity"), notified_rank=_rank("notified_severity"))
        .filter(rank__gt=F("notified_rank"))
    )
    queryset = ContractAlert.objects.filter(pk__in=candidates.values("pk")).select_related(
        "contract", "contract__provider", "invoice", "invoice__contract", "invoice__contract__provider"
    )
    if lock:
        # Locking only the alert rows: a row locked here is one another run is mailing right now.
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.order_by("due_date", "kind", "occasion", "pk"))


def alert_contract(alert):
    """The contract an alert is about: its own, or its invoice's; None for a cost anomaly."""
    if alert.contract_id:
        return alert.contract
    if alert.invoice_id:
        return alert.invoice.contract
    return None


def _clean(email):
    """An address as compared and sent: stripped and lower-cased; '' for none."""
    return (email or "").strip().lower()


def renewal_owner_role():
    """The "Renewal owner" Role (created on migrate), or None if someone deleted it."""
    return Role.objects.filter(name=RENEWAL_OWNER_ROLE).first()


def renewal_owners(contract, user=None):
    """The contact associations making a contact or team a renewal owner of `contract`, as `user` may view them.

    With a `user`, only associations whose contact or team that user may view too.
    """
    queryset = ContactAssociation.objects.filter(
        role__name=RENEWAL_OWNER_ROLE,
        associated_object_type=ContentType.objects.get_for_model(Contract),
        associated_object_id=contract.pk,
    )
    if user is not None:
        # The association alone would name a contact or team the viewer may not view: both must be visible.
        queryset = queryset.filter(
            Q(contact__isnull=True) | Q(contact__in=restrict(Contact.objects.all(), user)),
            Q(team__isnull=True) | Q(team__in=restrict(Team.objects.all(), user)),
        )
    return restrict(queryset, user).select_related("contact", "team", "status").order_by("contact__name", "team__name")


def renewal_owner_emails(contract_ids):
    """{contract id: set of owner e-mail addresses} for the given contracts, in at most two queries.

    A contact gives its e-mail; a team gives its own e-mail, or, when it has none, those of its member contacts.
    Owners without an address give nothing (their contracts' alerts then go to the fallback addresses).
    """
    contract_ids = set(contract_ids)
    if not contract_ids:
        return {}
    rows = ContactAssociation.objects.filter(
        role__name=RENEWAL_OWNER_ROLE,
        associated_object_type=ContentType.objects.get_for_model(Contract),
        associated_object_id__in=contract_ids,
    ).values_list("associated_object_id", "contact__email", "team_id", "team__email")
    owners, teams_without_email = {}, {}
    for contract_id, contact_email, team_id, team_email in rows:
        addresses = owners.setdefault(contract_id, set())
        if _clean(contact_email):
            addresses.add(_clean(contact_email))
        elif team_id and _clean(team_email):
            addresses.add(_clean(team_email))
        elif team_id:
            teams_without_email.setdefault(team_id, set()).add(contract_id)
    if teams_without_email:
        members = Team.contacts.through.objects.filter(team_id__in=teams_without_email).values_list(
            "team_id", "contact__email"
        )
        for team_id, email in members:
            if _clean(email):
                for contract_id in teams_without_email[team_id]:
                    owners[contract_id].add(_clean(email))
    return {contract_id: addresses for contract_id, addresses in owners.items() if addresses}


def fallback_emails():
    """The `notification_fallback_emails` setting, cleaned and without duplicates, in its order."""
    return list(dict.fromkeys(_clean(email) for email in get_setting("notification_fallback_emails") if _clean(email)))


def _visible_to_recipients(addresses, alert_ids):
    """{address: set of alert ids its Nautobot user(s) may view}, only for addresses that belong to a user.

    One query for the users, then one restricted query per user. A digest names an alert's contract (and invoice),
    so the user must be able to view those as well as the alert. An address shared by several users gets only what
    all of them may view; a deactivated user may view nothing.
    """
    users = (
        get_user_model().objects.annotate(email_lower=Lower("email")).filter(email_lower__in=addresses).order_by("pk")
    )
    visible = {}
    for user in users:
        ids = set(
            restrict(ContractAlert.objects.filter(pk__in=alert_ids), user)
            .filter(
                Q(contract__isnull=True) | Q(contract__in=restrict(Contract.objects.all(), user)),
                Q(invoice__isnull=True) | Q(invoice__in=restrict(Invoice.objects.all(), user)),
            )
            .values_list("pk", flat=True)
        )
        address = user.email_lower
        visible[address] = visible[address] & ids if address in visible else ids
    return visible


@dataclass
class Digest:
    """One message: its recipient(s) and the alerts it lists (most severe first)."""

    to: list
    alerts: list

    def as_result(self):
        """The Job result's form: {"to": [...], "alerts": [ids]}."""
        return {"to": list(self.to), "alerts": [str(alert.pk) for alert in self.alerts]}


@dataclass
class NotificationPlan:
    """What a run would send on `as_of`: the digests, and the alerts nobody can be told about."""

    as_of: object
    digests: list = field(default_factory=list)
    unrouted: list = field(default_factory=list)  # no owner address and no fallback address
    withheld: list = field(default_factory=list)  # every recipient's user may not view them

    @property
    def notified_alerts(self):
        """The alerts in at least one digest, each once."""
        return list({alert.pk: alert for digest in self.digests for alert in digest.alerts}.values())


def plan_notifications(as_of, user=None, lock=False):
    """Work out every digest of `as_of`: one per recipient address, of the alerts it has not been told about.

    Alerts come from `notifiable_alerts` (restricted to `user`, the one running the Job). Each goes to its contract's
    renewal owners, or to the fallback addresses when it has none. Where a Nautobot user has the recipient's address,
    the recipient's digest holds only the alerts that user may view; an address with no user (an outside contact)
    gets every alert routed to it.
    """
    alerts = notifiable_alerts(as_of, user=user, lock=lock)
    plan = NotificationPlan(as_of=as_of)
    if not alerts:
        return plan
    owners = renewal_owner_emails(contract.pk for contract in map(alert_contract, alerts) if contract is not None)
    fallback = fallback_emails()
    routed = {}  # address -> alerts, in alert order
    for alert in alerts:
        contract = alert_contract(alert)
        addresses = owners.get(contract.pk) if contract is not None else None
        addresses = sorted(addresses) if addresses else fallback
        if not addresses:
            plan.unrouted.append(alert)
        for address in addresses:
            routed.setdefault(address, []).append(alert)
    visible = _visible_to_recipients(list(routed), [alert.pk for alert in alerts])
    shown = set()
    for address in sorted(routed):
        listed = [alert for alert in routed[address] if address not in visible or alert.pk in visible[address]]
        if listed:
            listed.sort(key=lambda alert: -AlertSeverityChoices.RANK.get(alert.severity, 0))  # stable: due date next
            plan.digests.append(Digest(to=[address], alerts=listed))
            shown.update(alert.pk for alert in listed)
    unrouted = {alert.pk for alert in plan.unrouted}
    plan.withheld = [alert for alert in alerts if alert.pk not in shown and alert.pk not in unrouted]
    return plan


def base_url():
    """The `notification_base_url` setting without a trailing slash ('' leaves links as paths)."""
    return (get_setting("notification_base_url") or "").rstrip("/")


class Links(ObjectLinks):
    """Absolute URLs of object pages for a digest, prefixed with the `notification_base_url` setting."""

    def __init__(self):
        super().__init__(prefix=base_url())


def digest_context(digest, as_of, links=None):
    """What the mail templates show: one entry per alert, most severe first, with its text already formatted."""
    links = links or Links()
    entries = []
    for alert in digest.alerts:
        contract = alert_contract(alert)
        if alert.invoice_id:
            subject = f"invoice {alert.invoice.invoice_number} of {contract.name}"
        elif contract is not None:
            subject = contract.name
        else:
            subject = " ".join(filter(None, (alert.currency, alert.metric)))
        days = (alert.due_date - as_of).days if alert.due_date else None
        if days is None:
            when = ""
        elif days >= 0:
            when = f"in {days} day(s)"
        else:
            when = f"{-days} day(s) ago"
        detail = [f"Act by {alert.due_date.isoformat()} ({when})"] if alert.due_date else []
        if alert.notified_severity:
            detail.append(f"was {alert.get_notified_severity_display().lower()}")
        entries.append(
            {
                "detail": "; ".join(detail),
                "alert": alert,
                "severity": alert.get_severity_display(),
                "kind": alert.get_kind_display(),
                "subject": subject,
                "provider": contract.provider.name if contract is not None else "",
                "due_date": alert.due_date.isoformat() if alert.due_date else "",
                "when": when,
                "raised": bool(alert.notified_severity),
                "previous_severity": alert.get_notified_severity_display() if alert.notified_severity else "",
                "link": links(alert),
                "subject_link": links(alert.invoice if alert.invoice_id else contract),
                "subject_label": "Invoice" if alert.invoice_id else "Contract",
            }
        )
    return {"as_of": as_of.isoformat(), "recipient": digest.to[0], "entries": entries, "count": len(entries)}


def digest_subject(digest, as_of):
    """The message subject, e.g. "[Nautobot contracts] 2 contract alert(s) need action (2026-12-02)"."""
    return f"{SUBJECT_PREFIX} {len(digest.alerts)} contract alert(s) need action ({as_of.isoformat()})"


def digest_message(digest, as_of, connection=None, links=None):
    """The e-mail of one digest: plain text, with an HTML alternative."""
    context = digest_context(digest, as_of, links=links)
    message = EmailMultiAlternatives(
        subject=digest_subject(digest, as_of),
        body=render_to_string(TEXT_TEMPLATE, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=digest.to,
        connection=connection,
    )
    message.attach_alternative(render_to_string(HTML_TEMPLATE, context), "text/html")
    return message


def send_digests(plan):
    """Send every digest of the plan through Django's configured e-mail backend, over one connection.

    Raises whatever the backend raises (smtplib.SMTPException, OSError) on the first refusal: the caller then marks
    nothing as notified.
    """
    if not plan.digests:
        return 0
    connection = get_connection(fail_silently=False)
    links = Links()
    messages = [digest_message(digest, plan.as_of, connection=connection, links=links) for digest in plan.digests]
    with connection:
        sent = connection.send_messages(messages)
    if sent != len(messages):
        raise RuntimeError(f"The mail backend sent {sent or 0} of {len(messages)} message(s).")
    return sent


def mark_notified(plan, now=None):
    """Record that the plan's alerts were mailed at their current severity: one UPDATE per severity.

    The UPDATE matches the severity that was mailed, so an alert whose severity a concurrent run raised meanwhile
    stays due for its next notification.
    """
    now = now or timezone.now()
    by_severity = {}
    for alert in plan.notified_alerts:
        by_severity.setdefault(alert.severity, []).append(alert.pk)
    updated = 0
    for severity, ids in by_severity.items():
        updated += ContractAlert.objects.filter(pk__in=ids, severity=severity).update(
            notified_severity=severity, notified_at=now
        )
    return updated
