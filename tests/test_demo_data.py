"""`load_contracts_demo_data`: idempotent, and the data set shows every case the app handles."""

import copy
import datetime
import hashlib
from io import StringIO
import os
from pathlib import Path
import shutil
import tempfile

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.dcim.models import Device, DeviceType, Location, LocationType, Manufacturer, Rack
from nautobot.extras.models import Job, Role
from nautobot.tenancy.models import Tenant, TenantGroup
from nautobot.users.models import Token, User

from nautobot_contracts.choices import BillingPeriodChoices, ContractTypeChoices
from nautobot_contracts.demo_data import refresh_demo_data
from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    ContractAttachment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)
from nautobot_contracts.services.coverage import covered_devices, uncovered_devices
from nautobot_contracts.services.money import round_money
from nautobot_contracts.services.terms import TIERS, active_contracts, renewal_tier
from tests.pinning import pin_today

COMMAND = "load_contracts_demo_data"
TODAY = datetime.date(2026, 6, 15)  # pinned: clock.today() is patched to it while a test class runs
# Every model the command writes to; the snapshot compares all of their rows.
MODELS = [
    LocationType, Location, Rack, Manufacturer, DeviceType, Role, Device, TenantGroup, Tenant, Provider, CircuitType,
    Circuit, *apps.get_app_config("nautobot_contracts").get_models(),
]  # fmt: skip


def run_command():
    out = StringIO()
    call_command(COMMAND, stdout=out)
    return out.getvalue()


def snapshot():
    """Every row of every model the command touches, as plain values (last_updated included)."""
    return {model._meta.label: {row["id"]: row for row in model.objects.values()} for model in MODELS}


def files_under(root):
    """{relative path: sha256} of every file under `root`."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in Path(root).rglob("*")
        if path.is_file()
    }


class DemoDataTest(TestCase):
    """Load the demo data once for the class (about 170 objects), into a private attachment root of its own."""

    @classmethod
    def setUpClass(cls):
        Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
        cls.media_root = tempfile.mkdtemp(prefix="demo-data-media-")
        cls.attachment_root = tempfile.mkdtemp(prefix="demo-data-attachments-")
        for folder in (cls.media_root, cls.attachment_root):
            cls.addClassCleanup(shutil.rmtree, folder, ignore_errors=True)
        config = copy.deepcopy(settings.PLUGINS_CONFIG)
        config["nautobot_contracts"]["attachment_root"] = cls.attachment_root
        media = override_settings(MEDIA_ROOT=cls.media_root, PLUGINS_CONFIG=config)
        media.enable()
        cls.addClassCleanup(media.disable)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls):
        pin_today(cls, TODAY)
        cls.today = TODAY
        cls.first_output = run_command()

    # Idempotence

    def test_second_run_creates_and_changes_nothing(self):
        self.assertIn("Demo data: created", self.first_output)
        before, files_before = snapshot(), files_under(self.attachment_root)
        self.assertTrue(files_before)

        with CaptureQueriesContext(connection) as queries:
            second_output = run_command()

        self.assertEqual(snapshot(), before)
        self.assertEqual(files_under(self.attachment_root), files_before)
        self.assertIn("nothing created", second_output)
        # Existing objects are found with one query per model and batch, never one per object (~170 objects);
        # budgets are the 51st and 52nd queries (one lookup per fiscal-year offset, see DemoData.load_budgets).
        self.assertLessEqual(len(queries), 52, "\n".join(q["sql"][:120] for q in queries.captured_queries))
        # The summary reports what exists.
        self.assertIn(f"Contracts: {Contract.objects.count()}", second_output)
        self.assertIn(f"Devices: {Device.objects.count()}", second_output)
        self.assertIn(f"Devices without contract coverage on {self.today}: ", second_output)

    def test_rerun_restores_only_missing_objects(self):
        assignment = ContractAssignment.objects.order_by("pk").first()
        key = {
            "contract_id": assignment.contract_id,
            "assigned_object_type_id": assignment.assigned_object_type_id,
            "assigned_object_id": assignment.assigned_object_id,
        }
        rate_key = {"currency": "GBP", "effective_date": datetime.date(2026, 1, 1)}
        assignment.delete()
        ExchangeRate.objects.get(**rate_key).delete()
        kept = snapshot()

        output = run_command()

        self.assertIn("created 2 objects", output)
        self.assertTrue(ContractAssignment.objects.filter(**key).exists())
        self.assertTrue(ExchangeRate.objects.filter(**rate_key).exists())
        after = snapshot()
        for label, rows in kept.items():
            # Everything that survived is untouched.
            self.assertEqual({pk: after[label][pk] for pk in rows}, rows, label)

    # The data set

    def test_contracts_cover_every_choice(self):
        contracts = Contract.objects.select_related("status")
        self.assertEqual({c.currency for c in contracts}, {"USD", "EUR", "GBP"})
        self.assertEqual({c.billing_period for c in contracts}, set(BillingPeriodChoices.values()))
        self.assertEqual({c.contract_type for c in contracts}, set(ContractTypeChoices.values()))
        self.assertEqual({c.status.name for c in contracts}, {"Active", "Pending", "Expired", "Cancelled"})
        self.assertEqual({c.auto_renew for c in contracts}, {True, False})
        self.assertTrue(any(c.notice_period_days for c in contracts))
        self.assertTrue(any(c.notice_period_days is None for c in contracts))
        # An auto-renewing contract whose original end has passed is still active (it rolled into a new term).
        self.assertTrue(active_contracts(self.today).filter(auto_renew=True, end_date__lt=self.today).exists())
        for contract in contracts:
            contract.full_clean()

    def test_every_renewal_tier_appears_today(self):
        tiers = {renewal_tier(c, self.today) for c in active_contracts(self.today).select_related("status")}
        self.assertTrue(set(TIERS) <= tiers, f"tiers present: {tiers}")
        self.assertIn(None, tiers, "some active contracts should be outside the renewal window")

    def test_invoices(self):
        invoices = Invoice.objects.select_related("status", "contract")
        self.assertTrue({"Open", "Paid", "Disputed"} <= {i.status.name for i in invoices})
        self.assertEqual({i.currency for i in invoices}, {"USD", "EUR", "GBP"})
        for invoice in invoices:
            self.assertEqual(invoice.currency, invoice.contract.currency)
            self.assertEqual(invoice.paid_date is not None, invoice.status.name == "Paid")
            self.assertLessEqual(invoice.invoice_date, self.today)
            self.assertTrue(invoice.contract.start_date <= invoice.period_start <= invoice.contract.end_date)

    def test_assignments_reach_every_target_type_and_leave_devices_uncovered(self):
        target_types = {
            f"{ct.app_label}.{ct.model}"
            for ct in ContentType.objects.filter(
                pk__in=ContractAssignment.objects.values("assigned_object_type").distinct()
            )
        }
        self.assertTrue(
            {"dcim.device", "dcim.rack", "dcim.location", "circuits.circuit", "tenancy.tenant"} <= target_types,
            target_types,
        )
        for assignment in ContractAssignment.objects.all():
            self.assertIsNotNone(assignment.assigned_object, assignment.pk)
        devices = Device.objects.count()
        self.assertTrue(30 <= devices <= 60, devices)
        self.assertTrue(Device.objects.filter(rack__isnull=False).exists())
        self.assertTrue(Device.objects.filter(rack__isnull=True).exists())
        self.assertTrue(covered_devices(self.today).exists())
        self.assertTrue(uncovered_devices(self.today).exists())

    def test_core_objects_and_rates(self):
        self.assertEqual(
            set(Location.objects.values_list("location_type__name", flat=True)), {"Region", "City", "Site"}
        )
        self.assertTrue(Tenant.objects.filter(tenant_group__isnull=False).exists())
        self.assertTrue(ServiceProvider.objects.filter(circuit_provider__isnull=False).exists())
        self.assertTrue(ServiceProvider.objects.filter(circuit_provider__isnull=True).exists())
        self.assertEqual(set(ExchangeRate.objects.values_list("currency", flat=True)), {"EUR", "GBP"})

    def test_attachment_files_are_stored_in_the_private_root(self):
        self.assertTrue(ContractAttachment.objects.exists())
        self.assertTrue(InvoiceAttachment.objects.exists())
        for attachment in [*ContractAttachment.objects.all(), *InvoiceAttachment.objects.all()]:
            path = Path(attachment.file.path)
            self.assertTrue(path.is_file(), path)
            self.assertEqual(os.path.commonpath([path, self.attachment_root]), self.attachment_root)
            self.assertNotEqual(os.path.commonpath([path, self.media_root]), self.media_root)
            content = path.read_bytes()
            self.assertEqual(attachment.size, len(content))
            self.assertEqual(attachment.sha256, hashlib.sha256(content).hexdigest())
            if path.suffix == ".pdf":
                self.assertTrue(content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF"))
                self.assertEqual(attachment.mime_type, "application/pdf")


class DemoSetupCommandTest(TestCase):
    """`contracts_demo_setup`: superuser, one stable API token, the app's Jobs enabled; idempotent."""

    def run_setup(self, *args):
        out = StringIO()
        call_command("contracts_demo_setup", *args, stdout=out)
        lines = out.getvalue().splitlines()
        self.assertTrue(lines[-1].startswith("TOKEN="), lines)
        return lines[:-1], lines[-1].removeprefix("TOKEN=")

    def test_creates_then_keeps_user_token_and_jobs(self):
        Job.objects.filter(module_name__startswith="nautobot_contracts").update(enabled=False)
        lines, token = self.run_setup()
        self.assertIn("Created superuser admin", lines)
        user = User.objects.get(username="admin")
        self.assertTrue(user.is_superuser and user.is_staff and user.check_password("admin"))
        self.assertTrue(Token.objects.filter(user=user, key=token, write_enabled=True).exists())
        jobs = Job.objects.filter(module_name__startswith="nautobot_contracts")
        self.assertTrue(jobs.exists())
        self.assertFalse(jobs.filter(enabled=False).exists())

        # A broken demo user is repaired; the token stays the same.
        user.set_password("changed")
        user.is_superuser = False
        user.save()
        lines, second = self.run_setup()
        self.assertEqual(second, token)
        self.assertIn("Reset superuser admin", lines)
        self.assertEqual(Token.objects.filter(user=user).count(), 1)

        # Nothing to do on a third run.
        lines, third = self.run_setup()
        self.assertEqual(third, token)
        self.assertEqual(lines, [f"App Jobs: {jobs.count()} installed, 0 newly enabled"])

    def test_empty_password_is_refused(self):
        with self.assertRaisesRegex(CommandError, "must not be empty"):
            call_command("contracts_demo_setup", "--password", "", stdout=StringIO())
        self.assertFalse(User.objects.filter(username="admin").exists())


class DemoDataMovesWithTodayTest(TestCase):
    """A re-run on a later day moves the demo dates (every tier stays populated) and keeps a year of snapshots."""

    @classmethod
    def setUpTestData(cls):
        pin_today(cls, TODAY)
        cls.first_day = TODAY - datetime.timedelta(days=200)
        refresh_demo_data(today=cls.first_day)
        cls.first_dates = dict(Contract.objects.values_list("name", "start_date"))
        cls.later_day = TODAY
        cls.created, cls.moved = refresh_demo_data(today=cls.later_day)

    def test_contract_and_invoice_dates_follow_today(self):
        self.assertEqual(self.created.get("nautobot_contracts.Contract", 0), 0)
        self.assertEqual(self.moved["nautobot_contracts.Contract"], Contract.objects.count())
        for name, start in Contract.objects.values_list("name", "start_date"):
            self.assertEqual(start - self.first_dates[name], datetime.timedelta(days=200), name)
        tiers = {renewal_tier(c, self.later_day) for c in active_contracts(self.later_day).select_related("status")}
        self.assertTrue(set(TIERS) <= tiers, tiers)
        for invoice in Invoice.objects.select_related("status", "contract"):
            invoice.full_clean()
            self.assertEqual(invoice.paid_date is not None, invoice.status.name == "Paid")
            if invoice.paid_date:
                self.assertTrue(invoice.invoice_date <= invoice.paid_date <= self.later_day)
            self.assertTrue(invoice.contract.start_date <= invoice.period_start <= self.later_day)

    def test_a_year_of_monthly_snapshots(self):
        dates = sorted(set(CostSnapshot.objects.values_list("snapshot_date", flat=True)))
        first = self.later_day.replace(day=1)
        self.assertEqual(dates[-1], first if first < self.later_day else first - relativedelta(months=1))
        self.assertTrue({d.day for d in dates} == {1})
        self.assertGreaterEqual(len(dates), 12)
        self.assertLessEqual(dates[-12], self.later_day - relativedelta(months=11))
        for row in CostSnapshot.objects.all():
            self.assertEqual(row.monthly_burn, round_money(row.monthly_burn))
            self.assertNotIn(row.currency, {"XXX", "XTS"})
        # Past rows already written are kept as they are by a re-run.
        before = list(CostSnapshot.objects.order_by("pk").values())
        refresh_demo_data(today=self.later_day)
        self.assertEqual(list(CostSnapshot.objects.order_by("pk").values()), before)
