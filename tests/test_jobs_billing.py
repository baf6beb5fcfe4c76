"""The "Reconcile invoices" Job: result dict, warnings linked to contracts, CSV, filters, restriction, query count."""

import datetime
from decimal import Decimal
from unittest import mock

from django.db import connections
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices
from nautobot.extras.models import JobLogEntry
from nautobot.users.models import User

from nautobot_contracts.jobs import billing as billing_jobs
from nautobot_contracts.models import Contract, Invoice
from tests import factories
from tests.test_jobs_coverage import JobLogsOnDefaultDatabase, read_csv

MODULE = "nautobot_contracts.jobs.billing"
JOB = "ReconcileInvoices"
AS_OF = "2026-03-15"
D = datetime.date
M = Decimal


class ReconcileInvoicesJobTest(JobLogsOnDefaultDatabase, TestCase):
    """On 2026-03-15 with 30 grace days.

    A (Acme, tenant T, USD 100.00 monthly): January invoiced 100.00 (paid): ok; February 120.00 (Open, due
    2026-03-01, so 14 days overdue): over by 20.00; March pending. Variance to date 220.00 - 300.00 = -80.00 USD.
    B (Globex, EUR 300.00 quarterly): Q1 started 73 days ago with no invoice: missing, variance -300.00 EUR.
    C (Pending) is not reconciled.
    """

    @classmethod
    def setUpTestData(cls):
        cls.acme = factories.ServiceProviderFactory(name="Acme")
        cls.globex = factories.ServiceProviderFactory(name="Globex")
        cls.tenant = factories.make_tenant("T")
        cls.a = factories.ContractFactory(name="A", provider=cls.acme, tenant=cls.tenant)
        cls.b = factories.ContractFactory(
            name="B", provider=cls.globex, currency="EUR", billing_period="quarterly", recurring_cost=M("300.00")
        )
        factories.ContractFactory(name="C", provider=cls.acme, status=factories.status_for(Contract, "Pending"))
        factories.InvoiceFactory(
            contract=cls.a,
            invoice_date=D(2026, 1, 5),
            period_start=D(2026, 1, 1),
            status=factories.status_for(Invoice, "Paid"),
        )
        factories.InvoiceFactory(
            contract=cls.a,
            invoice_date=D(2026, 2, 5),
            due_date=D(2026, 3, 1),
            period_start=D(2026, 2, 1),
            period_end=D(2026, 2, 28),
            amount=M("120.00"),
        )

    def run_job(self, username="job-runner", **job_kwargs):
        _, job_model = get_job_class_and_model(MODULE, JOB)
        job_result = run_job_for_testing(job_model, username=username, job_kwargs=job_kwargs)
        job_result.refresh_from_db()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        return job_result

    def test_meta(self):
        job_class, job_model = get_job_class_and_model(MODULE, JOB)
        self.assertEqual((job_model.name, job_model.grouping), ("Reconcile invoices", "Contracts"))
        self.assertTrue(job_class.read_only)

    def test_result_dict(self):
        result = self.run_job(as_of=AS_OF).result
        self.assertEqual(
            result,
            {
                "as_of": AS_OF,
                "contracts_checked": 2,
                "periods_checked": 4,
                "missing": 1,
                "over": 1,
                "under": 0,
                "overdue_invoices": 1,
                "overdue_amount": {"USD": "120.00"},
                "variance_to_date": {"EUR": "-300.00", "USD": "-80.00"},
            },
        )

    def test_warnings_linked_to_contracts_and_csv(self):
        job_result = self.run_job(as_of=AS_OF)
        warnings = JobLogEntry.objects.filter(job_result=job_result, log_level=LogLevelChoices.LOG_WARNING)
        self.assertEqual(sorted(entry.log_object for entry in warnings), ["A", "B"])
        urls = {entry.log_object: entry.absolute_url for entry in warnings}
        self.assertEqual(urls["A"], self.a.get_absolute_url())
        messages = sorted(entry.message for entry in warnings)
        self.assertEqual(
            messages[1],
            "OVER: A (Acme), 2026-02-01 to 2026-02-28: over-billed: invoiced 120.00 against 100.00 expected "
            "(20.00 USD, 1 invoice(s)).",
        )
        self.assertTrue(messages[0].startswith("MISSING: B (Globex), 2026-01-01 to 2026-03-31: no invoice"))
        summary = JobLogEntry.objects.get(job_result=job_result, log_level=LogLevelChoices.LOG_INFO, grouping="run")
        self.assertIn("1 missing, 1 over-billed, 0 under-billed, 1 pending, 1 ok; 1 overdue", summary.message)

        name, rows = read_csv(job_result)
        self.assertEqual(name, f"invoice-reconciliation-{AS_OF}.csv")
        self.assertEqual(rows[0], list(billing_jobs.CSV_COLUMNS))
        self.assertEqual(
            sorted(row[1:] for row in rows[1:]),
            [
                ["A", "Acme", "USD", "2026-02-01", "2026-02-28", "100.00", "120.00", "20.00", "1", "over"],
                ["B", "Globex", "EUR", "2026-01-01", "2026-03-31", "300.00", "0.00", "-300.00", "0", "missing"],
            ],
        )

    def test_grace_days_provider_and_tenant(self):
        self.assertEqual(self.run_job(as_of=AS_OF, grace_days=80).result["missing"], 0)
        result = self.run_job(as_of=AS_OF, provider=str(self.globex.pk)).result
        self.assertEqual((result["contracts_checked"], result["missing"], result["overdue_invoices"]), (1, 1, 0))
        result = self.run_job(as_of=AS_OF, tenant=str(self.tenant.pk)).result
        self.assertEqual((result["contracts_checked"], result["over"], result["overdue_invoices"]), (1, 1, 1))

    def test_restricted_to_running_user(self):
        user = User.objects.create_user(username="limited")
        factories.grant(user, Contract, constraints={"provider__name": "Globex"})
        result = self.run_job(username="limited", as_of=AS_OF).result
        self.assertEqual(
            (result["contracts_checked"], result["missing"], result["over"], result["overdue_invoices"]), (1, 1, 0, 0)
        )

    def test_bad_inputs_are_form_errors(self):
        job_class = billing_jobs.ReconcileInvoices
        for data in ({"as_of": "2026-02-30"}, {"grace_days": -1}, {"grace_days": 99999}, {"grace_days": "x"}):
            form = job_class.as_form(data=data)
            self.assertFalse(form.is_valid(), data)
        self.assertTrue(job_class.as_form(data={"as_of": AS_OF, "grace_days": 0}).is_valid())

    def test_query_count_independent_of_contract_count(self):
        def job_queries():
            _, job_model = get_job_class_and_model(MODULE, JOB)
            with CaptureQueriesContext(connections["default"]) as queries:
                job_result = run_job_for_testing(job_model, username="job-runner", job_kwargs={"as_of": AS_OF})
            job_result.refresh_from_db()
            return len(queries), job_result.result["contracts_checked"], job_result.result["missing"]

        job_queries()  # the first run creates the user and warms caches
        small = job_queries()
        for index in range(30):
            contract = factories.ContractFactory(name=f"bulk-{index}", provider=self.acme)
            factories.InvoiceFactory(contract=contract, amount=M("90.00"))
        large = job_queries()
        self.assertEqual((small[1:], large[1:]), ((2, 1), (32, 31)))
        self.assertEqual(small[0], large[0])
        self.assertLess(large[0], 50)


class WarningCapTest(JobLogsOnDefaultDatabase, TestCase):
    def test_warnings_are_capped_and_the_csv_lists_every_problem(self):
        for index in range(3):
            factories.ContractFactory(name=f"Unbilled {index}")  # January and February missing on AS_OF
        _, job_model = get_job_class_and_model(MODULE, JOB)
        with mock.patch.object(billing_jobs, "MAX_WARNINGS", 2):
            job_result = run_job_for_testing(job_model, username="job-runner", job_kwargs={"as_of": AS_OF})
        job_result.refresh_from_db()
        warnings = JobLogEntry.objects.filter(job_result=job_result, log_level=LogLevelChoices.LOG_WARNING)
        self.assertEqual(warnings.count(), 3)
        self.assertEqual(
            warnings.order_by("created").last().message,
            "... and 4 more problem period(s): the attached CSV lists all 6.",
        )
        _, rows = read_csv(job_result)
        self.assertEqual(len(rows) - 1, 6)
        self.assertEqual(job_result.result["missing"], 6)
