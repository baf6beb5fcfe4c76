"""`nautobot-server load_contracts_demo_data`: load the demo data set (idempotent)."""

from django.core.management.base import BaseCommand

from nautobot_contracts.demo_data import load_demo_data, summary


class Command(BaseCommand):
    """Create the demo data set's missing objects; running it again creates and changes nothing."""

    help = (
        "Load demo contracts, invoices, assignments, exchange rates and attachments (plus the locations, devices, "
        "tenants and circuits they refer to). Safe to run repeatedly: only missing objects are created."
    )

    def handle(self, *args, **options):
        """Load, then print what was created and what exists."""
        created = load_demo_data()
        total = sum(created.values())
        if total:
            details = ", ".join(f"{label} {count}" for label, count in sorted(created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo data: created {total} objects ({details})."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data: already loaded, nothing created."))
        for line in summary():
            self.stdout.write(f"  {line}")
