"""Jobs: Monthly cost report, Capture cost history snapshot, Detect cost anomalies."""

from nautobot.apps.choices import LogLevelChoices
from nautobot.dcim.models import Device

from nautobot_contracts import clock
from nautobot_contracts.jobs.base import (
    GROUPING,
    MAX_DAYS,
    ContractsJob,
    DateVar,
    as_of_var,
    bounded_integer_var,
    csv_text,
    log_alert_counts,
    parse_date,
)
from nautobot_contracts.models import Contract, ContractAssignment, ServiceProvider
from nautobot_contracts.services import alerts, anomalies, coverage, fx, money, snapshots
from nautobot_contracts.services.access import restrict
from nautobot_contracts.services.money import money_str

name = GROUPING  # pylint: disable=invalid-name  # the Job grouping shown in Nautobot

DEFAULT_FORECAST_DAYS = money.RENEWAL_FORECAST_DAYS


def coverage_gap_count(as_of, user):
    """Devices the user may view that nothing covers on `as_of` (the rule in services.coverage)."""
    return coverage.uncovered_devices(as_of, user=user).count()


def _money_or_none(amount):
    return None if amount is None else money_str(amount)


class MonthlyCostReport(ContractsJob):
    """Monthly burn, annualized spend and renewal forecast per currency, converted into the reporting currency."""

    as_of = as_of_var(description="Report date (YYYY-MM-DD); empty means today")
    forecast_days = bounded_integer_var(
        min_value=0,
        max_value=MAX_DAYS,
        default=DEFAULT_FORECAST_DAYS,
        required=False,
        label="Forecast (days)",
        description=f"Renewal forecast horizon in days (0-{MAX_DAYS})",
    )

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Monthly cost report"
        description = (
            "Monthly burn, annualized cost and renewal forecast per currency; total in the reporting currency; "
            "top vendors; coverage gaps. Attaches the per-currency table as CSV."
        )
        read_only = True

    def run(self, as_of=None, forecast_days=None):  # pylint: disable=arguments-differ
        """Compute the report over the contracts the running user may view."""
        as_of = parse_date(as_of)
        forecast_days = DEFAULT_FORECAST_DAYS if forecast_days is None else forecast_days
        totals = money.currency_totals(as_of, forecast_days, user=self.user)
        conversion = fx.convert({code: item.monthly_burn for code, item in totals.items()}, as_of, user=self.user)
        vendors = money.top_vendors(as_of, user=self.user)
        gaps = coverage_gap_count(as_of, self.user)

        per_currency = {}
        lines = []  # one insert for all currencies rather than two queries a line
        for code in sorted(totals):
            item = totals[code]
            per_currency[code] = {
                "monthly_burn": money_str(item.monthly_burn),
                "annualized": money_str(item.annualized),
                "renewal_forecast": money_str(item.renewal_forecast),
                "active_contracts": item.active_contracts,
            }
            rate = conversion.rates.get(code)
            converted = (
                f"{money_str(item.monthly_burn * rate)} {conversion.currency} at {rate}"
                if rate is not None
                else "no exchange rate: not converted"
            )
            lines.append(
                (
                    LogLevelChoices.LOG_INFO,
                    f"{code}: monthly burn {per_currency[code]['monthly_burn']} ({converted}), annualized "
                    f"{per_currency[code]['annualized']}, renewal forecast {forecast_days} days "
                    f"{per_currency[code]['renewal_forecast']}, {item.active_contracts} active contract(s).",
                    None,
                )
            )
        self.log_lines(lines)
        if conversion.unconverted:
            self.logger.warning(
                "No exchange rate into %s on or before %s for %s: left out of the total.",
                conversion.currency,
                as_of.isoformat(),
                ", ".join(conversion.unconverted),
            )
        self.logger.info(
            "Total monthly burn on %s: %s %s; %d device(s) without coverage.",
            as_of.isoformat(),
            money_str(conversion.total),
            conversion.currency,
            gaps,
        )
        providers = ServiceProvider.objects.in_bulk({vendor["provider_id"] for vendor in vendors})
        self.log_lines(
            [
                (
                    LogLevelChoices.LOG_INFO,
                    f"Top vendor in {vendor['currency']}: {vendor['provider']}, monthly burn "
                    f"{money_str(vendor['monthly_burn'])}.",
                    providers.get(vendor["provider_id"]),
                )
                for vendor in vendors
            ]
        )

        csv_rows = [{"currency": code, **figures} for code, figures in per_currency.items()]
        self.create_file(
            f"monthly-cost-report-{as_of.isoformat()}.csv",
            csv_text(("currency", "monthly_burn", "annualized", "renewal_forecast", "active_contracts"), csv_rows),
        )
        return {
            "as_of": as_of.isoformat(),
            "reporting_currency": conversion.currency,
            "per_currency": per_currency,
            "total_monthly_burn": money_str(conversion.total),
            "unconverted": conversion.unconverted,
            "top_vendors": [
                {
                    "provider": vendor["provider"],
                    "currency": vendor["currency"],
                    "monthly_burn": money_str(vendor["monthly_burn"]),
                }
                for vendor in vendors
            ],
            "coverage_gap_count": gaps,
        }


class CaptureCostSnapshot(ContractsJob):
    """Write a day's cost history: one CostSnapshot per currency, under the write-once rule of services.snapshots."""

    as_of = DateVar(
        required=False,
        latest="today",
        label="Snapshot date",
        description="Date to capture (YYYY-MM-DD, today or earlier); empty means today",
    )

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Capture cost history snapshot"
        description = (
            "Records monthly burn, 90-day renewal forecast, active contracts and coverage gaps per currency for a "
            "date. Re-running today updates today's rows; a past date only gets the rows it is missing."
        )

    def run(self, as_of=None):  # pylint: disable=arguments-differ
        """Capture and store the snapshot; refuse unless the running user sees every contract, assignment and device."""
        as_of = parse_date(as_of)
        empty = {"as_of": as_of.isoformat(), "written": 0, "updated": 0, "skipped": 0, "rows": [], "skipped_rows": []}
        models = (Contract, ContractAssignment, Device)
        hidden = [str(model._meta.verbose_name_plural) for model in models if not sees_all(model, self.user)]
        if hidden:
            # The history is shared by everyone: totals over part of the data would corrupt it.
            self.fail(
                "Not captured: %s may not view all %s, and a snapshot must cover everything.",
                self.user,
                " and ".join(hidden),
            )
            return empty

        rows = snapshots.snapshot_rows(as_of, coverage_gap_count=coverage_gap_count(as_of, self.user), user=self.user)
        try:
            outcome = snapshots.write_snapshot(rows, today=clock.today())
        except snapshots.FutureSnapshotError as error:
            # Input validation already refuses future dates; only a run whose input was checked under another
            # clock (a worker in a different time zone) can get here.
            self.fail("Not captured: %s", error)
            return empty

        lines = [(LogLevelChoices.LOG_INFO, self._describe("Wrote", row), row) for row in outcome.created]
        lines += [(LogLevelChoices.LOG_INFO, self._describe("Updated", row), row) for row in outcome.updated]
        lines += [
            (LogLevelChoices.LOG_INFO, f"Skipped {row}: already recorded (a past day is never rewritten).", row)
            for row in outcome.skipped
        ]
        self.log_lines(lines)
        self.logger.info(
            "Snapshot %s: %d row(s) written, %d updated, %d skipped (already recorded).",
            as_of.isoformat(),
            len(outcome.created),
            len(outcome.updated),
            len(outcome.skipped),
        )
        return {
            **empty,
            "written": len(outcome.created),
            "updated": len(outcome.updated),
            "skipped": len(outcome.skipped),
            "rows": [self._row(row) for row in outcome.stored],
            "skipped_rows": [self._row(row) for row in outcome.skipped],
        }

    @staticmethod
    def _row(row):
        return {
            "snapshot_date": row.snapshot_date.isoformat(),
            "currency": row.currency,
            "monthly_burn": money_str(row.monthly_burn),
            "renewal_90d": money_str(row.renewal_90d),
            "active_contract_count": row.active_contract_count,
            "coverage_gap_count": row.coverage_gap_count,
        }

    @staticmethod
    def _describe(verb, row):
        return (
            f"{verb} {row}: monthly burn {money_str(row.monthly_burn)}, renewal forecast 90 days "
            f"{money_str(row.renewal_90d)}, {row.active_contract_count} active contract(s), "
            f"{row.coverage_gap_count} device(s) without coverage."
        )


def sees_all(model, user):
    """Whether `user` may view every row of `model` (always true for an internal run without a user)."""
    if user is None or user.is_superuser:
        return True
    queryset = model.objects.all()
    return restrict(queryset, user).count() == queryset.count()


class DetectCostAnomalies(ContractsJob):
    """Compare the latest cost snapshot with an earlier one and warn about big changes and gaps."""

    as_of = as_of_var(description="Check the history as seen on this date (YYYY-MM-DD); empty means today")
    threshold_pct = bounded_integer_var(
        min_value=1,
        max_value=1000,
        default=20,
        required=False,
        label="Threshold (%)",
        description="Report a change of more than this many percent (1-1000)",
    )
    lookback_days = bounded_integer_var(
        min_value=1,
        max_value=MAX_DAYS,
        default=28,
        required=False,
        label="Lookback (days)",
        description=f"Compare with the latest snapshot at least this many days older (1-{MAX_DAYS})",
    )

    class Meta(ContractsJob.Meta):  # pylint: disable=too-few-public-methods
        """Job metadata."""

        name = "Detect cost anomalies"
        description = (
            "Warns about rises and falls in monthly burn and 90-day renewal forecast beyond a threshold, new and "
            "vanished currencies, and stale cost history. Raises and resolves cost anomaly alerts."
        )

    def run(self, as_of=None, threshold_pct=None, lookback_days=None):  # pylint: disable=arguments-differ
        """Check the cost history the running user may view."""
        as_of = parse_date(as_of)
        threshold_pct = 20 if threshold_pct is None else threshold_pct
        lookback_days = 28 if lookback_days is None else lookback_days
        report = anomalies.detect_anomalies(as_of, threshold_pct, lookback_days, user=self.user)
        found = []
        for anomaly in report.anomalies:
            entry = {
                "currency": anomaly.currency,
                "metric": anomaly.metric,
                "kind": anomaly.kind,
                "baseline_date": anomaly.baseline_date.isoformat() if anomaly.baseline_date else None,
                "baseline": _money_or_none(anomaly.baseline),
                "current_date": anomaly.current_date.isoformat() if anomaly.current_date else None,
                "current": _money_or_none(anomaly.current),
                "pct_change": _money_or_none(anomaly.pct_change),
            }
            found.append(entry)
            self.logger.warning(describe_anomaly(entry, lookback_days, threshold_pct))
        self.logger.info(
            "Checked %d currenc(ies) (latest snapshot %s, baseline %s): %d anomal(ies).",
            len(report.currencies_checked),
            report.latest_date.isoformat() if report.latest_date else "none",
            report.baseline_date.isoformat() if report.baseline_date else "none",
            len(found),
        )
        written = alerts.sync_anomaly_alerts(report, threshold_pct, as_of)
        log_alert_counts(self, "cost anomaly", written)
        return {
            "as_of": as_of.isoformat(),
            "anomalies": found,
            "currencies_checked": report.currencies_checked,
            "alerts": written.counts(),
        }


def describe_anomaly(entry, lookback_days, threshold_pct):
    """One readable line for one anomaly."""
    kind, currency, metric = entry["kind"], entry["currency"], entry["metric"]
    if kind == anomalies.KIND_STALE:
        latest = entry["current_date"] or "none"
        return f"Stale cost history: latest snapshot {latest}, none in the last {2 * lookback_days} days."
    if kind == anomalies.KIND_NEW:
        return (
            f"{currency} is new: {metric} {entry['current']} on {entry['current_date']}, "
            f"no snapshot on {entry['baseline_date'] or 'a baseline date'}."
        )
    if kind == anomalies.KIND_VANISHED:
        return (
            f"{currency} vanished: {metric} {entry['baseline']} on {entry['baseline_date']}, "
            f"absent on {entry['current_date']}."
        )
    change = f"{entry['pct_change']}%" if entry["pct_change"] is not None else "from zero"
    return (
        f"{currency} {metric} {kind} {change} (threshold {threshold_pct}%): {entry['baseline']} on "
        f"{entry['baseline_date']} -> {entry['current']} on {entry['current_date']}."
    )


jobs = (MonthlyCostReport, CaptureCostSnapshot, DetectCostAnomalies)
