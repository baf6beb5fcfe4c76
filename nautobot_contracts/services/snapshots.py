"""Cost history: capturing a day's cost snapshot, under the write-once rule (docs/models/costsnapshot.md)."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Q

from nautobot_contracts import clock
from nautobot_contracts.services.money import RENEWAL_FORECAST_DAYS, currency_totals, round_money
from nautobot_contracts.services.terms import ZERO

SNAPSHOT_VALUE_FIELDS = ("monthly_burn", "renewal_90d", "active_contract_count", "coverage_gap_count")


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

    today = today or clock.today()  # callers pass it to pin the date
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
