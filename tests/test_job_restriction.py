"""Every Job's output (log entries, JobResult.result, attached files) names only what the running user may view.

One data set with two tenants: the user may view the contracts, devices and providers of tenant Alpha only. Every
object of tenant Zeta carries a distinctive name; each Job is run as that user and every output is searched for
those names and ids.
"""

import datetime
from decimal import Decimal
import json
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from nautobot.apps.testing import TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.dcim.models import Device, Location
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import FileProxy, JobLogEntry
from nautobot.tenancy.models import Tenant
from nautobot.users.models import User

from nautobot_contracts.models import (
    Contract,
    ContractAlert,
    ContractAssignment,
    CostSnapshot,
    Invoice,
    ServiceProvider,
)
from tests import factories

AS_OF = "2026-06-15"
JOBS = {
    "renewals": ("nautobot_contracts.jobs.renewals", "CheckUpcomingRenewals"),
    "report": ("nautobot_contracts.jobs.costs", "MonthlyCostReport"),
    "snapshot": ("nautobot_contracts.jobs.costs", "CaptureCostSnapshot"),
    "anomalies": ("nautobot_contracts.jobs.costs", "DetectCostAnomalies"),
    "coverage": ("nautobot_contracts.jobs.coverage", "FindUncoveredDevices"),
    "import": ("nautobot_contracts.jobs.imports", "ImportContractsCSV"),
    "overdue": ("nautobot_contracts.jobs.invoices", "CheckOverdueInvoices"),
    "reconcile": ("nautobot_contracts.jobs.billing", "ReconcileInvoices"),
    "allocation": ("nautobot_contracts.jobs.allocation", "CostAllocationReport"),
}
INVOICE_HEADER = (
    "contract__provider__name,contract__name,invoice_number,invoice_date,due_date,period_start,period_end,amount,"
    "status__name\n"
)


def outputs(job_result):
    """Everything a job result shows: log messages and linked objects, result, traceback, attached files."""
    texts = [json.dumps(job_result.result, default=str), job_result.traceback or ""]
    for entry in JobLogEntry.objects.filter(job_result=job_result):
        texts += [entry.message, entry.log_object or "", entry.absolute_url or ""]
    for proxy in FileProxy.objects.filter(job_result=job_result):
        with proxy.file.open("rb") as handle:
            texts += [proxy.name, handle.read().decode("utf-8")]
    return "\n".join(texts)


class JobResultRestrictionTest(TestCase):
    """A user who may view tenant Alpha's objects runs each Job; nothing of tenant Zeta shows."""

    def setUp(self):
        super().setUp()
        # Job log entries through the test's own connection (see tests/test_jobs_money.py JobTestCase).
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)

    @classmethod
    def setUpTestData(cls):
        alpha, zeta = factories.make_tenant("Tenant Alpha"), factories.make_tenant("Zeta Secret Tenant")
        alpha_site = factories.make_location("Alpha Site")
        zeta_site = factories.make_location("Zeta Secret Site")
        cls.alpha_provider = factories.ServiceProviderFactory(name="Alpha Provider")
        zeta_provider = factories.ServiceProviderFactory(name="Zeta Secret Provider")
        terms = {
            "start_date": datetime.date(2026, 1, 1),
            "end_date": datetime.date(2026, 7, 31),  # notice 30 days: deadline 2026-07-01, 16 days after AS_OF
            "notice_period_days": 30,
        }
        cls.alpha_contract = factories.ContractFactory(
            name="alpha-contract", provider=cls.alpha_provider, tenant=alpha, recurring_cost=Decimal("100.00"), **terms
        )
        zeta_contract = factories.ContractFactory(
            name="zeta-secret-contract",
            provider=zeta_provider,
            tenant=zeta,
            currency="GBP",
            recurring_cost=Decimal("300.00"),
            **terms,
        )
        # A hidden contract of a visible provider, in the visible currency.
        factories.ContractFactory(
            name="zeta-secret-usd-contract",
            provider=cls.alpha_provider,
            tenant=zeta,
            recurring_cost=Decimal("700.00"),
            **terms,
        )
        factories.make_device("alpha-device", location=alpha_site, tenant=alpha)
        zeta_device = factories.make_device("zeta-secret-device", location=zeta_site, tenant=zeta)
        # Cost history: USD flat, GBP up fivefold (an anomaly only a GBP viewer may see).
        for day, usd, gbp in (("2026-05-01", 100, 100), ("2026-06-01", 100, 500)):
            factories.CostSnapshotFactory(snapshot_date=day, currency="USD", monthly_burn=usd, renewal_90d=0)
            factories.CostSnapshotFactory(snapshot_date=day, currency="GBP", monthly_burn=gbp, renewal_90d=0)
        cls.secrets = [
            "Zeta Secret",
            "zeta-secret",
            "GBP",
            *(str(obj.pk) for obj in (zeta, zeta_site, zeta_provider, zeta_contract, zeta_device)),
        ]
        cls.viewer = User.objects.create_user(username="alpha-viewer", is_superuser=False)
        factories.grant(cls.viewer, Contract, constraints={"tenant__name": "Tenant Alpha"})
        factories.grant(cls.viewer, ServiceProvider, constraints={"name": "Alpha Provider"})
        factories.grant(cls.viewer, Device, constraints={"tenant__name": "Tenant Alpha"})
        factories.grant(cls.viewer, Location)
        factories.grant(cls.viewer, Tenant, constraints={"name": "Tenant Alpha"})
        factories.grant(cls.viewer, ContractAssignment)
        factories.grant(cls.viewer, CostSnapshot, constraints={"currency": "USD"})
        factories.grant(
            cls.viewer, Invoice, actions=("view", "add"), constraints={"contract__tenant__name": "Tenant Alpha"}
        )

    def run_job(self, key, **job_kwargs):
        _, job_model = get_job_class_and_model(*JOBS[key])
        job_result = run_job_for_testing(job_model, username=self.viewer.username, job_kwargs=job_kwargs)
        job_result.refresh_from_db()
        return job_result

    def assert_nothing_hidden(self, job_result):
        shown = outputs(job_result)
        for secret in self.secrets:
            self.assertNotIn(secret, shown)
        return shown

    def test_the_hidden_objects_exist_for_a_superuser(self):
        # The searched names do show up for someone who may see everything: the searches below can fail.
        superuser = User.objects.create_user(username="root", is_superuser=True)
        _, job_model = get_job_class_and_model(*JOBS["renewals"])
        shown = outputs(run_job_for_testing(job_model, username=superuser.username, job_kwargs={"as_of": AS_OF}))
        for secret in ("zeta-secret-contract", "Zeta Secret Provider", "GBP"):
            self.assertIn(secret, shown)
        _, job_model = get_job_class_and_model(*JOBS["coverage"])
        shown = outputs(run_job_for_testing(job_model, username=superuser.username, job_kwargs={"as_of": AS_OF}))
        self.assertIn("zeta-secret-device", shown)
        self.assertIn("Zeta Secret Site", shown)

    def test_renewals(self):
        job_result = self.run_job("renewals", as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual([row["name"] for row in job_result.result["contracts"]], ["alpha-contract"])
        shown = self.assert_nothing_hidden(job_result)
        self.assertIn("alpha-contract (Alpha Provider)", shown)

    def test_cost_report(self):
        job_result = self.run_job("report", as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        result = job_result.result
        self.assertEqual(list(result["per_currency"]), ["USD"])
        # 100.00 of alpha-contract; the hidden USD contract's 700.00 is not in the figures.
        self.assertEqual(result["per_currency"]["USD"]["monthly_burn"], "100.00")
        self.assertEqual(
            result["top_vendors"], [{"provider": "Alpha Provider", "currency": "USD", "monthly_burn": "100.00"}]
        )
        self.assertEqual(result["coverage_gap_count"], 1)
        self.assert_nothing_hidden(job_result)

    def test_snapshot(self):
        job_result = self.run_job("snapshot", as_of=AS_OF)
        # Refused: a snapshot over part of the data would corrupt the shared history; the refusal names models only.
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertFalse(CostSnapshot.objects.filter(snapshot_date=AS_OF).exists())
        shown = self.assert_nothing_hidden(job_result)
        self.assertIn("may not view all contracts and devices", shown)

    def test_anomalies(self):
        job_result = self.run_job("anomalies", as_of=AS_OF, lookback_days=28)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["currencies_checked"], ["USD"])
        self.assertEqual(job_result.result["anomalies"], [])
        self.assert_nothing_hidden(job_result)

    def test_coverage(self):
        job_result = self.run_job("coverage", as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["uncovered"], 1)
        self.assertEqual([row["name"] for row in job_result.result["uncovered_sample"]], ["alpha-device"])
        shown = self.assert_nothing_hidden(job_result)
        self.assertIn("alpha-device", shown)

    def test_import_refers_only_to_visible_objects(self):
        """A row naming a hidden contract fails exactly like one naming no contract at all; nothing is created."""
        content_type = ContentType.objects.get_for_model(Invoice).pk
        rows = (
            "Alpha Provider,zeta-secret-usd-contract,INV-1,2026-02-01,2026-03-01,2026-02-01,2026-02-28,700.00,Open\n"
            "Alpha Provider,no-such-contract,INV-2,2026-02-01,2026-03-01,2026-02-01,2026-02-28,700.00,Open\n"
        )
        job_result = self.run_job("import", content_type=content_type, csv_data=INVOICE_HEADER + rows)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertFalse(Invoice.objects.exists())
        messages = [
            entry.message for entry in JobLogEntry.objects.filter(job_result=job_result, message__startswith="Line ")
        ]
        self.assertEqual(len(messages), 2, messages)
        self.assertEqual(
            messages[0].replace("Line 2", "Line N").replace("zeta-secret-usd-contract", "X"),
            messages[1].replace("Line 3", "Line N").replace("no-such-contract", "X"),
        )
        # A visible contract imports.
        row = "Alpha Provider,alpha-contract,INV-3,2026-02-01,2026-03-01,2026-02-01,2026-02-28,100.00,Open\n"
        job_result = self.run_job("import", content_type=content_type, csv_data=INVOICE_HEADER + row)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(list(Invoice.objects.values_list("contract__name", flat=True)), ["alpha-contract"])
        self.assert_nothing_hidden(job_result)

    def overdue_invoices(self):
        """One overdue invoice on a visible contract and one on each hidden one (due 2026-06-01, Open)."""
        dates = {"invoice_date": datetime.date(2026, 5, 1), "due_date": datetime.date(2026, 6, 1)}
        for contract in Contract.objects.all():
            factories.InvoiceFactory(
                contract=contract, invoice_number=f"{contract.name}-inv", period_start=datetime.date(2026, 4, 1),
                period_end=datetime.date(2026, 4, 30), **dates,
            )  # fmt: skip

    def test_overdue_invoices(self):
        self.overdue_invoices()
        job_result = self.run_job("overdue", as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["alerts"]["created"], 1)
        # The run raised the visible contract's alert only; the hidden contracts' overdue invoices got none.
        self.assertEqual(
            list(ContractAlert.objects.values_list("invoice__invoice_number", flat=True)), ["alpha-contract-inv"]
        )
        self.assert_nothing_hidden(job_result)

    def test_reconcile_invoices(self):
        self.overdue_invoices()
        job_result = self.run_job("reconcile", as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["contracts_checked"], 1)
        self.assertEqual(job_result.result["overdue_invoices"], 1)
        self.assertEqual(list(job_result.result["overdue_amount"]), ["USD"])
        shown = self.assert_nothing_hidden(job_result)
        self.assertIn("alpha-contract", shown)

    def test_cost_allocation(self):
        # The visible contract is split between a visible device and a hidden tenant's device; the hidden contracts'
        # assignments are left out of the split altogether.
        factories.ContractAssignmentFactory(
            contract=self.alpha_contract, assigned_object=Device.objects.get(name="alpha-device")
        )
        zeta_device = Device.objects.get(name="zeta-secret-device")
        factories.ContractAssignmentFactory(contract=self.alpha_contract, assigned_object=zeta_device)
        for contract in Contract.objects.exclude(pk=self.alpha_contract.pk):
            factories.ContractAssignmentFactory(contract=contract, assigned_object=zeta_device)
        job_result = self.run_job("allocation", as_of=AS_OF, group_by="tenant")
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        rows = [(row["name"], row["monthly_cost"]) for row in job_result.result["rows"]]
        self.assertEqual(rows, [("Tenant Alpha", "50.00"), ("(hidden)", "50.00")])
        self.assertEqual(job_result.result["total"], {"USD": "100.00"})
        self.assert_nothing_hidden(job_result)
