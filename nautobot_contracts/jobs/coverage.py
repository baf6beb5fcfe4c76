"""Job: find the devices without contract coverage on a date (the rule lives in services.coverage)."""

import csv
import io

from nautobot.apps.choices import LogLevelChoices
from nautobot.apps.jobs import MultiChoiceVar, ObjectVar
from nautobot.dcim.models import Device, Location
from nautobot.extras.models import Role, Status
from nautobot.tenancy.models import Tenant

from nautobot_contracts.choices import ContractTypeChoices
from nautobot_contracts.jobs.base import GROUPING, ContractsJob, as_of_var, parse_date
from nautobot_contracts.services import coverage
from nautobot_contracts.services.access import restrict

name = GROUPING  # pylint: disable=invalid-name  # Nautobot reads the Job grouping from the module's `name`

SAMPLE_SIZE = 100
CSV_HEADER = ("name", "serial", "location", "rack", "tenant", "role", "status", "platform")
CSV_FIELDS = (
    "name", "serial", "location_id", "rack__name", "tenant__name", "role__name", "status__name", "platform__name",
)  # fmt: skip


class FindUncoveredDevices(ContractsJob):
    """List the devices no support, maintenance or warranty contract covers on a date, with a CSV of all of them."""

    location = ObjectVar(model=Location, required=False, description="Only devices here or in a child location")
    tenant = ObjectVar(model=Tenant, required=False)
    role = ObjectVar(model=Role, required=False, query_params={"content_types": "dcim.device"})
    status = ObjectVar(model=Status, required=False, query_params={"content_types": "dcim.device"})
    contract_types = MultiChoiceVar(
        choices=ContractTypeChoices,
        required=False,
        default=coverage.coverage_contract_types(),
        description="Contract types that count as coverage (none selected: the app's coverage_contract_types)",
    )
    as_of = as_of_var()

    class Meta(ContractsJob.Meta):
        name = "Find devices without contract coverage"
        description = "Devices with no active support, maintenance or warranty contract, directly or inherited."
        read_only = True

    def run(self, *, location=None, tenant=None, role=None, status=None, contract_types=None, as_of=None):  # pylint: disable=arguments-differ
        """Scan, log a summary and a linked sample, attach the CSV, return the counts."""
        as_of = parse_date(as_of)
        contract_types = list(contract_types or []) or None
        devices = self.scope(location=location, tenant=tenant, role=role, status=status)
        uncovered = coverage.uncovered_devices(as_of, contract_types=contract_types, user=self.user, queryset=devices)

        scanned = devices.count()
        # The scan runs once: its rows give the count, the sample and the CSV (docs/dev/performance.md).
        rows = list(uncovered.values_list("pk", *CSV_FIELDS).iterator(chunk_size=5000))
        uncovered_count = len(rows)
        order = {row[0]: index for index, row in enumerate(rows[:SAMPLE_SIZE])}
        sample = sorted(
            Device.objects.filter(pk__in=list(order)).select_related("location"), key=lambda device: order[device.pk]
        )
        counted_types = ", ".join(coverage.coverage_contract_types(contract_types))
        self.logger.info(
            "%d of %d devices have no coverage on %s (contract types counted: %s).",
            uncovered_count,
            scanned,
            as_of.isoformat(),
            counted_types,
        )
        # One linked warning per sampled device, bulk-inserted (the logger costs two queries a line).
        self.log_lines(
            (LogLevelChoices.LOG_WARNING, f"No contract coverage: {device.name} ({device.location})", device)
            for device in sample
        )
        if uncovered_count > len(sample):
            self.logger.info("%d more uncovered devices are listed in the CSV.", uncovered_count - len(sample))
        self.create_file(f"uncovered-devices-{as_of.isoformat()}.csv", self.csv_of_rows(rows))
        return {
            "as_of": as_of.isoformat(),
            "devices_scanned": scanned,
            "covered": scanned - uncovered_count,
            "uncovered": uncovered_count,
            "uncovered_sample": [{"id": str(device.pk), "name": device.name} for device in sample],
        }

    def scope(self, location=None, tenant=None, role=None, status=None):
        """The devices the user may view that match the inputs; a location includes its descendants."""
        devices = restrict(Device.objects.all(), self.user)
        if location is not None:
            seed = Location.objects.filter(pk=location.pk).values("pk")
            devices = devices.filter(location_id__in=coverage.with_descendants(Location, seed))
        if tenant is not None:
            devices = devices.filter(tenant=tenant)
        if role is not None:
            devices = devices.filter(role=role)
        if status is not None:
            devices = devices.filter(status=status)
        return devices

    @staticmethod
    def csv_of_rows(rows):
        """The CSV of already fetched ("pk", *CSV_FIELDS) rows, with one query for the location paths."""
        location_ids = {row[3] for row in rows if row[3] is not None}
        paths = coverage.location_paths(Location.objects.filter(pk__in=location_ids).values("pk"))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        for _pk, name_, serial, location_id, rack, tenant, role, status, platform in rows:
            writer.writerow((name_, serial, paths.get(location_id, ""), rack, tenant, role, status, platform))
        return buffer.getvalue()

    @staticmethod
    def csv_of(devices):
        """One CSV row per device, from flat values and one location-path map (no per-device queries)."""
        paths = coverage.location_paths(devices.order_by().values("location_id").distinct())
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        rows = devices.values_list(*CSV_FIELDS).iterator(chunk_size=5000)
        for name_, serial, location_id, rack, tenant, role, status, platform in rows:
            writer.writerow((name_, serial, paths.get(location_id, ""), rack, tenant, role, status, platform))
        return buffer.getvalue()


jobs = (FindUncoveredDevices,)
