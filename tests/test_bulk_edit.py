"""Bulk edit is all or nothing: when clean() refuses one object of several, none changes and the error names it.

UI bulk edit (contracts, invoices) runs as a Job after the request; REST bulk PATCH runs in the request.
"""

import datetime
from unittest import mock

from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobLogEntry, JobResult

from nautobot_contracts.models import Contract, Invoice
from tests import factories


def bulk_edit_data(objects, **fields):
    return {"pk": [str(obj.pk) for obj in objects], "_apply": True, **fields}


class JobLogsOnDefaultDatabase:
    """Job log entries through the test's own connection (see tests/test_jobs_money.py JobTestCase)."""

    def setUp(self):
        super().setUp()
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)


def build(cls):
    provider = factories.ServiceProviderFactory(name="Acme")
    # Ordered by provider, then name: "a-free" is edited before "b-invoiced" is refused.
    cls.free = factories.ContractFactory(name="a-free", provider=provider)
    cls.invoiced = factories.ContractFactory(name="b-invoiced", provider=provider)
    cls.also_free = factories.ContractFactory(name="c-free", provider=provider)
    cls.invoice = factories.InvoiceFactory(contract=cls.invoiced, invoice_number="INV-1")
    cls.contracts = (cls.free, cls.invoiced, cls.also_free)


class UIBulkEditTest(JobLogsOnDefaultDatabase, TestCase):
    """The list page's Edit Selected, run as Nautobot runs it (the Bulk Edit Job, eager Celery)."""

    @classmethod
    def setUpTestData(cls):
        build(cls)

    def setUp(self):
        super().setUp()
        self.add_permissions(
            "nautobot_contracts.change_contract",
            "nautobot_contracts.view_contract",
            "nautobot_contracts.change_invoice",
            "nautobot_contracts.view_invoice",
            "extras.view_status",
        )

    def post(self, model_name, data):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(reverse(f"plugins:nautobot_contracts:{model_name}_bulk_edit"), data)

    def bulk_edit(self, model_name, data):
        """Post the edit; it passes the check and runs as the Bulk Edit Objects Job: its JobResult."""
        response = self.post(model_name, data)
        self.assertHttpStatus(response, 302)
        return JobResult.objects.latest("date_created")

    def test_contract_currency_refused_for_one_changes_none(self):
        response = self.post("contract", bulk_edit_data(self.contracts, currency="GBP", cost_center="CC-9"))
        # Refused on the form, naming the refused object; no Job is enqueued.
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "Nothing was changed: the edit is refused for 1 of the selected objects.")
        self.assertContains(response, "b-invoiced: currency: The currency cannot change to GBP")
        self.assertNotContains(response, "a-free: currency")
        self.assertFalse(JobResult.objects.exists())
        self.assertEqual(
            dict(Contract.objects.values_list("name", "currency")),
            {"a-free": "USD", "b-invoiced": "USD", "c-free": "USD"},
        )
        self.assertFalse(Contract.objects.filter(cost_center="CC-9").exists())

    def test_edit_all_runs_the_job_all_or_nothing(self):
        # "Edit all" skips the form check: Nautobot's Job refuses at b-invoiced and keeps a-free unchanged too.
        response = self.post("contract", {"_all": True, "_apply": True, "currency": "GBP", "cost_center": "CC-9"})
        self.assertHttpStatus(response, 302)
        job_result = JobResult.objects.get()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        errors = " ".join(
            JobLogEntry.objects.filter(job_result=job_result, log_level="error").values_list("message", flat=True)
        )
        self.assertIn("The currency cannot change to GBP", errors)
        self.assertEqual(set(Contract.objects.values_list("currency", flat=True)), {"USD"})
        self.assertFalse(Contract.objects.filter(cost_center="CC-9").exists())

    def test_contract_bulk_edit_that_holds_for_all(self):
        job_result = self.bulk_edit("contract", bulk_edit_data((self.free, self.also_free), currency="GBP"))
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(
            dict(Contract.objects.values_list("name", "currency")),
            {"a-free": "GBP", "b-invoiced": "USD", "c-free": "GBP"},
        )

    def test_invoice_paid_date_without_paid_status_changes_none(self):
        second = factories.InvoiceFactory(contract=self.invoiced, invoice_number="INV-2")
        response = self.post(
            "invoice", bulk_edit_data((self.invoice, second), paid_date="2026-06-01", description="Paid in June")
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "refused for 2 of the selected objects")
        for invoice in (self.invoice, second):
            self.assertContains(response, f"{invoice}: paid_date:")
        self.assertFalse(JobResult.objects.exists())
        self.assertFalse(Invoice.objects.filter(description="Paid in June").exists())

    def test_invoices_marked_paid(self):
        second = factories.InvoiceFactory(contract=self.invoiced, invoice_number="INV-2")
        paid = factories.status_for(Invoice, "Paid")
        job_result = self.bulk_edit(
            "invoice", bulk_edit_data((self.invoice, second), status=paid.pk, paid_date="2026-06-01")
        )
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(
            set(Invoice.objects.values_list("status__name", "paid_date")), {("Paid", datetime.date(2026, 6, 1))}
        )


class RESTBulkEditTest(APITestCase):
    """PATCH on a list endpoint with several objects: one refused, none changed, the error names it."""

    @classmethod
    def setUpTestData(cls):
        build(cls)

    def test_one_refused_changes_none(self):
        self.add_permissions("nautobot_contracts.change_contract", "nautobot_contracts.view_contract")
        url = reverse("plugins-api:nautobot_contracts-api:contract-list")
        body = [{"id": str(contract.pk), "currency": "GBP", "cost_center": "CC-9"} for contract in self.contracts]
        response = self.client.patch(url, body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertEqual(set(Contract.objects.values_list("currency", flat=True)), {"USD"})
        self.assertFalse(Contract.objects.filter(cost_center="CC-9").exists())
        self.assertIn("b-invoiced", str(response.data))
        self.assertIn(str(self.invoiced.pk), str(response.data))
        self.assertIn("The currency cannot change to GBP", str(response.data))

    def test_all_valid_changes_all(self):
        self.add_permissions("nautobot_contracts.change_contract", "nautobot_contracts.view_contract")
        url = reverse("plugins-api:nautobot_contracts-api:contract-list")
        body = [{"id": str(contract.pk), "end_date": "2026-11-30"} for contract in self.contracts]
        response = self.client.patch(url, body, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(set(Contract.objects.values_list("end_date", flat=True)), {datetime.date(2026, 11, 30)})
