"""Cost history: capturing a day's cost snapshot and spotting anomalies in the history."""

from dataclasses import dataclass
import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from nautobot_contracts.services.money import RENEWAL_FORECAST_DAYS, currency_totals
from nautobot_contracts.services.terms import ZERO, restrict, round_money

SNAPSHOT_VALUE_FIELDS = ("monthly_burn", "renewal_90d", "active_contract_count", "coverage_gap_count")
METRICS = ("monthly_burn", "renewal_90d")
KIND_RISE, KIND_FALL, KIND_NEW, KIND_VANISHED, KIND_STALE = "rise", "fall", "new", "vanished", "stale"
HUNDRED = Decimal("100")


def snapshot_rows(as_of, coverage_gap_count=None, user=None):
    """The CostSnapshot rows (unsaved) for `as_of`: one per currency with active contracts, plus zero rows.

    A zero row is written for a currency that the previous snapshot (the latest before `as_of`) still had spend or
    contracts in, or that an earlier run already recorded for `as_of`, but that has no active contract now: so a
    currency dropping to nothing shows as a fall to zero instead of silently vanishing, and a re-run corrects it.
    """
    from nautobot_contracts.models import CostSnapshot  # pylint: disable=import-outside-toplevel

    totals = currency_totals(as_of, RENEWAL_FORECAST_DAYS, user=user)
    snapshots = CostSnapshot.objects.all()
    previous_date = snapshots.filter(snapshot_date__lt=as_of).aggregate(latest=Max("snapshot_date"))["latest"]
    earlier = snapshots.filter(snapshot_date=as_of)
    if previous_date is not None:
        earlier = snapshots.filter(
            Q(snapshot_date=as_of)
            | Q(snapshot_date=previous_date) & (Q(monthly_burn__gt=0) | Q(active_contract_count__gt=0))
        )
    dropped = set(earlier.values_list("currency", flat=True)) - set(totals)

    rows = [
        CostSnapshot(
            snapshot_date=as_of,
            currency=currency,
            monthly_burn=round_money(item.monthly_burn),
            renewal_90d=round_money(item.renewal_forecast),
            active_contract_count=item.active_contracts,
            coverage_gap_count=coverage_gap_count,
        )
        for currency, item in totals.items()
    ]
    rows += [
        CostSnapshot(
            snapshot_date=as_of,
            currency=currency,
            monthly_burn=round_money(ZERO),
            renewal_90d=round_money(ZERO),
            active_contract_count=0,
            coverage_gap_count=coverage_gap_count,
        )
        for currency in dropped
    ]
    rows.sort(key=lambda row: row.currency)
    return rows


# Key of the PostgreSQL advisory lock that serializes snapshot writers (any constant unique to this purpose).
SNAPSHOT_WRITER_LOCK = 7_254_810_331


class FutureSnapshotError(ValueError):
    """A snapshot for a date after today: the history records what was, never what might be."""


@dataclass(frozen=True)
class SnapshotWrite:
    """What `write_snapshot` did with each row: created (missing), updated (today's), skipped (a past day's)."""

    created: list
    updated: list
    skipped: list

    @property
    def stored(self):
        """The rows written by this call (created or updated), by date and currency."""
        return sorted(self.created + self.updated, key=lambda row: (row.snapshot_date, row.currency))


def write_snapshot(rows, today=None):
    """Store the rows on (snapshot_date, currency) under the write-once rule; safe when two runs overlap.

    A row for `today` is created or updates today's row; a row for a past date is created only when that (date,
    currency) has none yet (a backfill fills gaps, never rewrites history); a row after `today` raises
    FutureSnapshotError before anything is written. Writers take one transaction-scoped advisory lock, so an
    overlapping run waits for the first to commit, then sees its rows: no duplicate, no IntegrityError. Each row is
    written with a normal save(), so the write is change-logged and fans out through Nautobot's webhooks.
    """
    from nautobot_contracts.models import CostSnapshot  # pylint: disable=import-outside-toplevel
    from nautobot_contracts.models.snapshots import snapshot_writer  # pylint: disable=import-outside-toplevel

    today = today or timezone.localdate()  # the clock of jobs.base.today(); callers pass it to pin the date
    future = sorted({row.snapshot_date for row in rows if row.snapshot_date > today})
    if future:
        raise FutureSnapshotError(f"Snapshot date {future[0].isoformat()} is after today ({today.isoformat()}).")
    created, updated, skipped = [], [], []
    if not rows:
        return SnapshotWrite(created, updated, skipped)
    with transaction.atomic(), snapshot_writer():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SNAPSHOT_WRITER_LOCK])
        # Read after taking the lock, so a run that waited sees what the first one wrote.
        existing = {
            (row.snapshot_date, row.currency): row
            for row in CostSnapshot.objects.filter(snapshot_date__in={row.snapshot_date for row in rows})
        }
        for row in rows:
            stored = existing.get((row.snapshot_date, row.currency))
            if stored is None:
                row.save()
                created.append(row)
            elif row.snapshot_date == today:
                for field in SNAPSHOT_VALUE_FIELDS:
                    setattr(stored, field, getattr(row, field))
                stored.save()
                updated.append(stored)
            else:
                skipped.append(stored)
    return SnapshotWrite(created, updated, skipped)


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
