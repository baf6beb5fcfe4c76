"""Alerts: raising, updating and resolving stored alerts for the three kinds (DOMAIN.md "Alerts").

Each kind has a `*_findings` function (what needs a person on `as_of`, as seen by `user`) and a `sync_*` function
that writes them with `write_alerts`: one alert per (kind, subject, occasion), created, updated or resolved in bulk
under a transaction-scoped advisory lock, so overlapping runs neither duplicate a row nor fail.
"""

from dataclasses import dataclass, field
import datetime

from django.db import connection, transaction
from django.db.models import Case, Count, DateField, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from nautobot_contracts.app_settings import renewal_alert_days
from nautobot_contracts.choices import AlertKindChoices, AlertSeverityChoices, AlertStateChoices
from nautobot_contracts.compat import change_context_state, log_changes_in_bulk
from nautobot_contracts.services import anomalies
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.invoices import overdue_invoices
from nautobot_contracts.services.renewals import renewal_thresholds
from nautobot_contracts.services.terms import (
    active_contracts,
    current_term_end_expression,
    notice_deadline_expression,
    renewal_tier,
)

RENEWAL = AlertKindChoices.KIND_RENEWAL_NOTICE
ANOMALY = AlertKindChoices.KIND_COST_ANOMALY
OVERDUE = AlertKindChoices.KIND_INVOICE_OVERDUE
OPEN = AlertStateChoices.STATE_OPEN
ACKNOWLEDGED = AlertStateChoices.STATE_ACKNOWLEDGED
RESOLVED = AlertStateChoices.STATE_RESOLVED
UNRESOLVED = (OPEN, ACKNOWLEDGED)
SOON = AlertSeverityChoices.SEVERITY_SOON
URGENT = AlertSeverityChoices.SEVERITY_URGENT

# An invoice up to this many days overdue is "soon", beyond it "urgent".
OVERDUE_URGENT_AFTER_DAYS = 30

# What the alert's REST serializer shows at depth 1 (the change log's object_data_v2), loaded once per write.
CHANGE_LOG_PREFETCH = (
    "contract__provider",
    "contract__status",
    "contract__tenant",
    "invoice__contract",
    "invoice__status",
    "acknowledged_by",
)

# Key of the PostgreSQL advisory lock that serializes alert writers (any constant unique to this purpose).
ALERT_WRITER_LOCK = 7_254_810_332


def severity_rank(severity):
    """Order of severities (upcoming < soon < urgent < missed); unknown or empty ranks lowest."""
    return AlertSeverityChoices.RANK.get(severity, 0)


def needs_action_q(as_of, prefix=""):
    """Needs action on `as_of`: open and not snoozed (no snoozed_until, or snoozed_until on or before `as_of`)."""
    return Q(**{f"{prefix}state": OPEN}) & (
        Q(**{f"{prefix}snoozed_until__isnull": True}) | Q(**{f"{prefix}snoozed_until__lte": as_of})
    )


def visible_alerts(user=None, queryset=None):
    """The alerts `user` may view, with what lists and serializers show loaded in the same query."""
    from nautobot_contracts.models import ContractAlert  # pylint: disable=import-outside-toplevel

    queryset = ContractAlert.objects.all() if queryset is None else queryset
    return restrict(queryset, user).select_related("contract__provider", "invoice", "acknowledged_by")


def open_alert_counts(user=None, queryset=None):
    """{severity: number of open alerts} the user may view, every severity present (0 where none); one query."""
    from nautobot_contracts.models import ContractAlert  # pylint: disable=import-outside-toplevel

    queryset = ContractAlert.objects.all() if queryset is None else queryset
    counts = dict.fromkeys(AlertSeverityChoices.values(), 0)
    rows = restrict(queryset, user).filter(state=OPEN).order_by().values("severity").annotate(n=Count("pk"))
    for row in rows:
        counts[row["severity"]] = row["n"]
    return counts


def alerts_needing_action(as_of, user=None, limit=10):
    """Up to `limit` open, unsnoozed alerts the user may view, most severe first, and their total (two queries)."""
    rank = Case(
        *(When(severity=severity, then=Value(rank)) for severity, rank in AlertSeverityChoices.RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    alerts = visible_alerts(user).filter(needs_action_q(as_of))
    rows = list(alerts.annotate(severity_rank=rank).order_by("-severity_rank", "due_date", "occasion", "pk")[:limit])
    return rows, alerts.count()


@dataclass(frozen=True)
class Finding:
    """One thing that needs a person on the day of a run: what an alert row should say."""

    kind: str
    severity: str
    occasion: datetime.date
    due_date: datetime.date | None
    message: str
    contract_id: object = None
    invoice_id: object = None
    currency: str = ""
    metric: str = ""
    # The contract already loaded by the finder (with what the change log shows of it), so the writer's change-log
    # records need not load it again; not part of the finding's identity.
    contract: object = field(default=None, compare=False, repr=False)

    @property
    def key(self):
        """(kind, subject, occasion): the identity of its alert."""
        return (self.kind, _subject(self), self.occasion)


def _subject(row):
    """The subject of a finding or an alert row, by its kind."""
    if row.kind == RENEWAL:
        return row.contract_id
    if row.kind == OVERDUE:
        return row.invoice_id
    return (row.currency, row.metric)


def _iso(day):
    return day.isoformat() if day else None


def alert_key(alert):
    """(kind, subject, occasion) of a stored alert."""
    return (alert.kind, _subject(alert), alert.occasion)


@dataclass
class AlertWrite:
    """What `write_alerts` did: the rows created, updated (severity or due date changed, or re-opened), resolved."""

    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    resolved: list = field(default_factory=list)
    risen: list = field(default_factory=list)  # updated rows whose severity rose (a subset of `updated`)

    def counts(self):
        """The `"alerts"` part of a Job result."""
        return {"created": len(self.created), "updated": len(self.updated), "resolved": len(self.resolved)}

    def __iadd__(self, other):
        for name in ("created", "updated", "resolved", "risen"):
            getattr(self, name).extend(getattr(other, name))
        return self


# --- renewal_notice -------------------------------------------------------------------------------------------


class _DaysUntil(Func):
    """`later - earlier` for two dates, an integer number of days in PostgreSQL (not an interval)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


def renewal_scope(user=None, queryset=None, providers=None, tenant=None):
    """The contracts (any status) a renewal run looks at: only their alerts may be raised or resolved by it."""
    from nautobot_contracts.models import Contract  # pylint: disable=import-outside-toplevel

    contracts = restrict(Contract.objects.all() if queryset is None else queryset, user)
    provider_ids = [getattr(provider, "pk", provider) for provider in providers or ()]
    if provider_ids:
        contracts = contracts.filter(provider_id__in=provider_ids)
    if tenant is not None:
        contracts = contracts.filter(tenant=tenant)
    return contracts


def renewal_findings(as_of, contracts, urgent_days=None, soon_days=None):
    """A renewal_notice finding per active contract whose notice deadline is at most its lead time away, or missed.

    Lead time: the contract's `alert_lead_days`, else the `renewal_alert_days` setting. Severity: the renewal tier
    on `as_of`, with the window set to the lead time. One query.
    """
    _window, urgent_days, soon_days = renewal_thresholds(None, urgent_days, soon_days)
    default_lead = renewal_alert_days()
    rows = (
        active_contracts(as_of, queryset=contracts)
        .annotate(term_end=current_term_end_expression(as_of), deadline=notice_deadline_expression(as_of))
        .annotate(days_left=_DaysUntil(F("deadline"), Value(as_of, output_field=DateField())))
        .filter(days_left__lte=Coalesce(F("alert_lead_days"), Value(default_lead)))
        .select_related("provider", "status", "tenant")
    )
    findings = []
    for contract in rows:
        lead = contract.alert_lead_days or default_lead
        tier = renewal_tier(contract, as_of, urgent_days=urgent_days, soon_days=soon_days, window_days=lead)
        if tier is None:  # a deadline passed on a term that has ended: not active, so not reached; kept as a guard
            continue
        outcome = "auto-renews" if contract.auto_renew else "ends"
        findings.append(
            Finding(
                kind=RENEWAL,
                severity=tier,
                occasion=contract.term_end,
                due_date=contract.deadline,
                message=(
                    f"{contract.name} ({contract.provider.name}): notice deadline {contract.deadline.isoformat()} "
                    f"; {outcome} on {contract.term_end.isoformat()}."
                )[:255],
                contract_id=contract.pk,
                contract=contract,
            )
        )
    return findings


def sync_renewal_alerts(as_of, user=None, providers=None, tenant=None, urgent_days=None, soon_days=None):
    """Raise, update and resolve the renewal_notice alerts of the contracts `user` may view (and the filters)."""
    scope = renewal_scope(user=user, providers=providers, tenant=tenant)
    findings = renewal_findings(as_of, scope, urgent_days=urgent_days, soon_days=soon_days)
    return write_alerts(RENEWAL, findings, Q(contract__in=scope.values("pk")), as_of)


# --- cost_anomaly ---------------------------------------------------------------------------------------------


def anomaly_severity(pct_change, threshold_pct):
    """`soon` below twice the threshold, else `urgent` (a rise from zero has no percentage: urgent)."""
    if pct_change is None or abs(pct_change) >= 2 * threshold_pct:
        return URGENT
    return SOON


def anomaly_findings(report, threshold_pct):
    """A cost_anomaly finding per rise or fall beyond the threshold in an `anomalies.AnomalyReport`."""
    findings = []
    for anomaly in report.anomalies:
        if anomaly.kind not in (anomalies.KIND_RISE, anomalies.KIND_FALL):
            continue  # new, vanished and stale are about the history itself, not a metric's move
        change = "from zero" if anomaly.pct_change is None else f"{anomaly.pct_change:+.2f}%"
        findings.append(
            Finding(
                kind=ANOMALY,
                severity=anomaly_severity(anomaly.pct_change, threshold_pct),
                occasion=anomaly.current_date,
                due_date=anomaly.current_date,
                message=(
                    f"{anomaly.currency} {anomaly.metric} {anomaly.kind} {change} (threshold {threshold_pct}%): "
                    f"{anomaly.baseline} on {anomaly.baseline_date} -> {anomaly.current} on {anomaly.current_date}."
                )[:255],
                currency=anomaly.currency,
                metric=anomaly.metric,
            )
        )
    return findings


def sync_anomaly_alerts(report, threshold_pct, as_of):
    """Write the cost_anomaly alerts of a report; resolve those of the currencies it checked that are gone."""
    findings = anomaly_findings(report, threshold_pct)
    return write_alerts(ANOMALY, findings, Q(currency__in=list(report.currencies_checked)), as_of)


# --- invoice_overdue ------------------------------------------------------------------------------------------


def overdue_severity(days):
    """`soon` up to OVERDUE_URGENT_AFTER_DAYS days overdue, `urgent` beyond."""
    return SOON if days <= OVERDUE_URGENT_AFTER_DAYS else URGENT


def overdue_findings(as_of, invoices):
    """An invoice_overdue finding per Open invoice of `invoices` past its due date on `as_of`. One query."""
    rows = overdue_invoices(as_of, queryset=invoices).select_related("contract__provider")
    return [
        Finding(
            kind=OVERDUE,
            severity=overdue_severity(invoice.days_overdue),
            occasion=invoice.due_date,
            due_date=invoice.due_date,
            message=(
                f"Invoice {invoice.invoice_number} of {invoice.contract.name} ({invoice.contract.provider.name}), "
                f"{invoice.amount} {invoice.currency}, was due {invoice.due_date.isoformat()} and is still open."
            )[:255],
            contract_id=invoice.contract_id,
            invoice_id=invoice.pk,
        )
        for invoice in rows
    ]


def sync_overdue_alerts(as_of, user=None):
    """Raise, update and resolve the invoice_overdue alerts of the invoices `user` may view."""
    from nautobot_contracts.models import Invoice  # pylint: disable=import-outside-toplevel

    scope = restrict(Invoice.objects.all(), user)
    findings = overdue_findings(as_of, scope)
    return write_alerts(OVERDUE, findings, Q(invoice__in=scope.values("pk")), as_of)


# --- the writer -----------------------------------------------------------------------------------------------


def _subject_q(kind, findings):
    """A Q matching the stored alerts of `kind` whose subject is one of the findings'."""
    if kind == RENEWAL:
        return Q(contract_id__in={finding.contract_id for finding in findings})
    if kind == OVERDUE:
        return Q(invoice_id__in={finding.invoice_id for finding in findings})
    return Q(currency__in={finding.currency for finding in findings})


def write_alerts(kind, findings, scope_q, as_of):
    """Store the findings of one kind as alerts; resolve the unresolved alerts in `scope_q` no finding matches.

    - A new (kind, subject, occasion) gets a new open alert (first_seen = last_seen = as_of).
    - An existing alert takes the finding's severity, due date and message; a severity rise re-opens an acknowledged
      alert, and a resolved alert whose condition holds again re-opens. last_seen moves to as_of (never back).
    - An open or acknowledged alert inside `scope_q` (the subjects the run looked at, as its user may view them)
      that no finding matches is resolved; alerts outside the scope are never touched.

    Writers take one transaction-scoped advisory lock and read after it, so a run that overlapped another sees its
    rows: no duplicate, no IntegrityError. Queries: the lock, one read, one insert and one update per thousand rows,
    one last_seen update, and, inside a request or Job, the change-log entries (one insert per thousand) and one
    webhook lookup; webhooks for created and changed alerts are enqueued when the transaction commits.
    """
    from nautobot_contracts.models import ContractAlert  # pylint: disable=import-outside-toplevel
    from nautobot_contracts.models.alerts import alert_writer  # pylint: disable=import-outside-toplevel

    outcome = AlertWrite()
    wanted = {}
    for finding in findings:
        wanted.setdefault(finding.key, finding)  # the first finding of a key wins; a kind's findings never repeat one
    now = timezone.now()
    with transaction.atomic(), alert_writer():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ALERT_WRITER_LOCK])
        # Read after taking the lock, so a run that waited sees what the first one wrote.
        candidates = Q(state__in=UNRESOLVED) & scope_q
        if wanted:
            candidates |= _subject_q(kind, wanted.values())
        existing = {alert_key(alert): alert for alert in ContractAlert.objects.filter(candidates, kind=kind)}

        seen, reworded, before = [], [], {}
        for key, finding in wanted.items():
            alert = existing.get(key)
            if alert is None:
                outcome.created.append(
                    ContractAlert(
                        kind=kind,
                        severity=finding.severity,
                        state=OPEN,
                        contract_id=finding.contract_id,
                        invoice_id=finding.invoice_id,
                        currency=finding.currency,
                        metric=finding.metric,
                        occasion=finding.occasion,
                        due_date=finding.due_date,
                        message=finding.message,
                        first_seen=as_of,
                        last_seen=as_of,
                    )
                )
                if finding.contract is not None:
                    outcome.created[-1].contract = finding.contract
                continue
            seen.append(alert.pk)
            before[alert.pk] = {"severity": alert.severity, "due_date": _iso(alert.due_date), "state": alert.state}
            rose = severity_rank(finding.severity) > severity_rank(alert.severity)
            changed = alert.severity != finding.severity or alert.due_date != finding.due_date
            if alert.state == RESOLVED or (rose and alert.state == ACKNOWLEDGED):
                alert.state, alert.resolved_at, changed = OPEN, None, True
            if changed:
                outcome.updated.append(alert)
                if rose:
                    outcome.risen.append(alert)
            elif alert.message != finding.message:
                reworded.append(alert)  # the wording only (e.g. a re-captured snapshot): stored, not counted
            alert.severity, alert.due_date, alert.message = finding.severity, finding.due_date, finding.message
            alert.last_seen = max(alert.last_seen, as_of)
        for key, alert in existing.items():
            if key not in wanted and alert.state in UNRESOLVED:
                before[alert.pk] = {"state": alert.state}
                alert.state, alert.resolved_at = RESOLVED, now
                outcome.resolved.append(alert)

        ContractAlert.objects.bulk_create(outcome.created, batch_size=1000)
        fields = ["severity", "due_date", "message", "state", "resolved_at", "last_seen", "last_updated"]
        changed_rows = outcome.updated + outcome.resolved
        for alert in changed_rows + reworded:
            alert.last_updated = now
        ContractAlert.objects.bulk_update(changed_rows + reworded, fields, batch_size=1000)
        if seen:
            ContractAlert.objects.filter(pk__in=seen, last_seen__lt=as_of).update(last_seen=as_of)
        if change_context_state.get() is not None:
            log_changes_in_bulk(
                created=outcome.created, updated=changed_rows, prefetch=CHANGE_LOG_PREFETCH, before=before
            )
    return outcome


# --- what people change ---------------------------------------------------------------------------------------


def person_change_errors(before_state, before_snooze, state, snoozed_until, as_of):
    """What is wrong with a person's change of an alert's state or snooze, as {field: message} (empty: allowed).

    A person sets the state to open or acknowledged (the Jobs resolve alerts); a resolved alert is closed, so its
    state and snooze cannot change; a snooze runs to today or later (today or empty ends it).
    """
    errors = {}
    if state != before_state:
        if state not in (OPEN, ACKNOWLEDGED):
            errors["state"] = "An alert's state can be set to open or acknowledged only; the Jobs resolve alerts."
        elif before_state == RESOLVED:
            verb = "acknowledged" if state == ACKNOWLEDGED else "re-opened"
            errors["state"] = f"This alert is resolved and cannot be {verb}."
    if snoozed_until != before_snooze:
        if RESOLVED in (before_state, state):
            errors["snoozed_until"] = "This alert is resolved and cannot be snoozed."
        elif snoozed_until is not None and snoozed_until < as_of:
            errors["snoozed_until"] = (
                f"Cannot snooze into the past: {snoozed_until.isoformat()} is before today ({as_of.isoformat()})."
            )
    return errors
