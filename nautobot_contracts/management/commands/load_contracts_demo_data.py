"""`nautobot-server load_contracts_demo_data`: load the demo data set (idempotent)."""

from django.core.management.base import BaseCommand

from nautobot_contracts.demo_data import refresh_demo_data, summary


class Command(BaseCommand):
    """Create the demo data set's missing objects and keep its dates relative to today."""

    help = (
        "Load demo contracts, invoices, assignments, exchange rates and attachments (plus the locations, devices, "
        "tenants and circuits they refer to) and a year of monthly cost snapshots. Safe to run repeatedly: only "
        "missing objects are created, and the demo dates move to stay relative to today."
    )

    def handle(self, *args, **options):
        """Load, then print what was created and what exists."""
        created, moved = refresh_demo_data()
        total = sum(created.values())
        if total:
            details = ", ".join(f"{label} {count}" for label, count in sorted(created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo data: created {total} objects ({details})."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data: already loaded, nothing created."))
        if moved:
            details = ", ".join(f"{label} {count}" for label, count in sorted(moved.items()))
            self.stdout.write(f"Demo data: dates moved to follow today ({details}).")
        for line in summary():
            self.stdout.write(f"  {line}")
