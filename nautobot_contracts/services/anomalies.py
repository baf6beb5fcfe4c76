"""Cost anomalies: rises, falls, new, vanished and stale currencies in the cost snapshot history."""

from dataclasses import dataclass
import datetime
from decimal import Decimal

from django.db.models import Max

from nautobot_contracts.services.access import restrict

METRICS = ("monthly_burn", "renewal_90d")
KIND_RISE, KIND_FALL, KIND_NEW, KIND_VANISHED, KIND_STALE = "rise", "fall", "new", "vanished", "stale"
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Anomaly:
    """One finding in the cost history."""

    kind: str
    currency: str | None = None
    metric: str | None = None
    baseline_date: datetime.date | None = None
    baseline: Decimal | None = None
    current_date: datetime.date | None = None
    current: Decimal | None = None
    pct_change: Decimal | None = None


@dataclass(frozen=True)
class AnomalyReport:
    """What `detect_anomalies` found and which currencies it looked at."""

    anomalies: list
    currencies_checked: list
    latest_date: datetime.date | None
    baseline_date: datetime.date | None


def pct_change(baseline, current):
    """Percentage change from baseline to current, unrounded; None when the baseline is zero."""
    if not baseline:
        return None
    return (Decimal(current) - Decimal(baseline)) / Decimal(baseline) * HUNDRED


def detect_anomalies(today, threshold_pct, lookback_days, user=None):
    """Compare the latest snapshot with the latest one on or before (latest date - lookback_days), per currency.

    Reports, for monthly_burn and renewal_90d, a rise or fall of more than `threshold_pct` percent (a rise from zero
    counts, with no percentage); a currency in the latest snapshot but not in the baseline (new); one in the baseline
    but not in the latest snapshot (vanished); and stale history when the latest snapshot is older than
    2 x lookback_days before `today` (or there is none). Three queries whatever the history's length.
    """
    from nautobot_contracts.models import CostSnapshot  # pylint: disable=import-outside-toplevel

    if not Decimal(threshold_pct) > 0:
        raise ValueError("threshold_pct must be greater than zero.")
    if lookback_days < 1:
        raise ValueError("lookback_days must be one or more.")
    # History as it stood on `today`: a check for a past date ignores rows captured after it.
    snapshots = restrict(CostSnapshot.objects.filter(snapshot_date__lte=today), user)
    latest_date = snapshots.aggregate(latest=Max("snapshot_date"))["latest"]
    anomalies = []
    if latest_date is None or latest_date < today - datetime.timedelta(days=2 * lookback_days):
        anomalies.append(Anomaly(kind=KIND_STALE, current_date=latest_date))
    if latest_date is None:
        return AnomalyReport(anomalies, [], None, None)

    cutoff = latest_date - datetime.timedelta(days=lookback_days)
    baseline_date = snapshots.filter(snapshot_date__lte=cutoff).aggregate(latest=Max("snapshot_date"))["latest"]
    wanted_dates = [latest_date] if baseline_date is None else [latest_date, baseline_date]
    current, baseline = {}, {}
    for row in snapshots.filter(snapshot_date__in=wanted_dates).values("snapshot_date", "currency", *METRICS):
        (current if row["snapshot_date"] == latest_date else baseline)[row["currency"]] = row
    currencies = sorted(set(current) | set(baseline))

    threshold = Decimal(threshold_pct)
    for currency in currencies:
        now, then = current.get(currency), baseline.get(currency)
        if then is None:
            anomalies.append(
                Anomaly(
                    kind=KIND_NEW,
                    currency=currency,
                    metric="monthly_burn",
                    baseline_date=baseline_date,
                    current_date=latest_date,
                    current=now["monthly_burn"],
                )
            )
            continue
        if now is None:
            anomalies.append(
                Anomaly(
                    kind=KIND_VANISHED,
                    currency=currency,
                    metric="monthly_burn",
                    baseline_date=baseline_date,
                    baseline=then["monthly_burn"],
                    current_date=latest_date,
                )
            )
            continue
        for metric in METRICS:
            change = pct_change(then[metric], now[metric])
            if change is None:
                beyond = now[metric] > 0  # from nothing to something: beyond any threshold
            else:
                beyond = abs(change) > threshold
            if beyond:
                anomalies.append(
                    Anomaly(
                        kind=KIND_RISE if now[metric] > then[metric] else KIND_FALL,
                        currency=currency,
                        metric=metric,
                        baseline_date=baseline_date,
                        baseline=then[metric],
                        current_date=latest_date,
                        current=now[metric],
                        pct_change=change,
                    )
                )
    return AnomalyReport(anomalies, currencies, latest_date, baseline_date)
