"""Job: Check upcoming renewals."""

from nautobot.apps.choices import LogLevelChoices
from nautobot.apps.jobs import BooleanVar, MultiObjectVar, ObjectVar
from nautobot.tenancy.models import Tenant

from nautobot_contracts.app_settings import renewal_thresholds
from nautobot_contracts.jobs.base import (
    GROUPING,
    MAX_DAYS,
    ContractsJob,
    as_of_var,
    bounded_integer_var,
    csv_text,
    log_alert_counts,
    parse_date,
)
from nautobot_contracts.models import ServiceProvider
from nautobot_contracts.services import alerts, entitlements
from nautobot_contracts.services.money import money_str
from nautobot_contracts.services.renewals import tier_counts, upcoming_renewals
from nautobot_contracts.services.terms import TIER_MISSED, TIER_URGENT

name = GROUPING  # pylint: disable=invalid-name  # the Job grouping shown in Nautobot

CSV_COLUMNS = (
    "id", "name", "provider", "tier", "term_end", "notice_deadline", "days_to_deadline", "auto_renew", "currency",
    "renewal_value", "utilization_pct", "over_quota", "under_utilized",
)  # fmt: skip


class CheckUpcomingRenewals(ContractsJob):
    """List active contracts whose notice deadline is missed, urgent, soon or inside the window."""

    as_of = as_of_var(description="Rank the contracts as on this date (YYYY-MM-DD); empty means today")
    window_days = bounded_integer_var(
        min_value=0,
        max_value=MAX_DAYS,
        default=renewal_thresholds().window_days,  # shown in the form; an empty input reads it again at run time
        required=False,
        label="Window (days)",
        description=f"List contracts whose notice deadline falls within this many days (0-{MAX_DAYS})",
    )
    include_missed = BooleanVar(
        default=True, label="Include missed", description="Also list contracts whose notice deadline has passed"
    )
    providers = MultiObjectVar(model=ServiceProvider, required=False, description="Only these providers")
    tenant = ObjectVar(model=Tenant, required=False, description="Only this tenant's contracts")

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Check upcoming renewals"
        description = (
            "Ranks active contracts by days to their notice deadline: missed, urgent, soon, upcoming. "
            "Attaches the list as CSV, and raises, escalates and resolves the contracts' renewal alerts."
        )

    def run(self, as_of=None, window_days=None, include_missed=True, providers=None, tenant=None):  # pylint: disable=arguments-differ
        """Rank the contracts the running user may view, report them and bring their renewal alerts up to date."""
        as_of = parse_date(as_of)
        window_days = renewal_thresholds(window_days).window_days  # the setting when the input is empty
        items = upcoming_renewals(
            as_of,
            window_days=window_days,
            include_missed=include_missed,
            providers=providers,
            tenant=tenant,
            user=self.user,
        )
        # One query for every listed contract that states an entitlement (none when none does).
        figures = entitlements.entitlements_for((item.contract for item in items), as_of, user=self.user)
        rows = []
        for item in items:
            contract = item.contract
            row = {
                "id": str(contract.pk),
                "name": contract.name,
                "provider": contract.provider.name,
                "tier": item.tier,
                "term_end": item.term_end.isoformat(),
                "notice_deadline": item.notice_deadline.isoformat(),
                "days_to_deadline": item.days_to_deadline,
                "auto_renew": contract.auto_renew,
                "currency": contract.currency,
                "renewal_value": money_str(item.renewal_value),
            }
            figure = figures.get(contract.pk)
            if figure is not None:
                # Worth knowing before renewing: more used than bought, or less than half of it.
                row["utilization_pct"] = str(figure.utilization_pct)
                row["over_quota"] = figure.over_quota
                row["under_utilized"] = figure.under_utilized
            rows.append(row)
        self.log_lines(self._log_line(item, row) for item, row in zip(items, rows, strict=True))

        counts = tier_counts(items)
        self.logger.info(
            "%d contract(s) on %s within %d days: %s.",
            len(items),
            as_of.isoformat(),
            window_days,
            ", ".join(f"{count} {tier}" for tier, count in counts.items()),
        )
        if figures:
            self.logger.info(
                "%d listed contract(s) state an entitlement: %d over quota, %d under-utilized (below %s%%).",
                len(figures),
                sum(figure.over_quota for figure in figures.values()),
                sum(figure.under_utilized for figure in figures.values()),
                entitlements.UNDER_UTILIZED_PCT,
            )
        self.create_file(f"upcoming-renewals-{as_of.isoformat()}.csv", csv_text(CSV_COLUMNS, rows))
        # Alerts follow each contract's lead time (not the window) over the same providers/tenant selection.
        written = alerts.sync_renewal_alerts(as_of, user=self.user, providers=providers, tenant=tenant)
        log_alert_counts(self, "renewal", written)
        return {
            "as_of": as_of.isoformat(),
            "window_days": window_days,
            "counts": counts,
            "contracts": rows,
            "alerts": written.counts(),
        }

    @staticmethod
    def _log_line(item, row):
        """One (level, message, contract) line per contract; missed and urgent ones as warnings."""
        if item.tier == TIER_MISSED:
            outcome = "it will renew for another term" if row["auto_renew"] else "it will lapse"
            when = f"notice deadline {row['notice_deadline']} passed {-item.days_to_deadline} day(s) ago; {outcome}"
        else:
            outcome = "auto-renews" if row["auto_renew"] else "ends"
            when = f"notice deadline {row['notice_deadline']} in {item.days_to_deadline} day(s); {outcome}"
        message = (
            f"{item.tier.upper()}: {row['name']} ({row['provider']}), {when} on {row['term_end']}, "
            f"renewal value {row['renewal_value']} {row['currency']}."
        )
        if row.get("over_quota"):
            message += f" Over quota: {row['utilization_pct']}% of its entitlement used."
        elif row.get("under_utilized"):
            message += f" Under-utilized: {row['utilization_pct']}% of its entitlement used."
        level = LogLevelChoices.LOG_WARNING if item.tier in (TIER_MISSED, TIER_URGENT) else LogLevelChoices.LOG_INFO
        return level, message, item.contract


jobs = (CheckUpcomingRenewals,)
