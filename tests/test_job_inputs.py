"""Every input of every Job is bounded: a bad value is a form error naming the field, from validate_data() and from
the REST Jobs API (400, the same message, no JobResult created)."""

import datetime
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, get_job_class_and_model
from nautobot.dcim.models import Device
from nautobot.extras.models import JobResult

from nautobot_contracts.jobs import allocation, billing, costs, coverage, imports, invoices, notifications, renewals
from nautobot_contracts.models import CostSnapshot, Invoice

TODAY = datetime.date(2026, 6, 15)
NOT_A_DATE = ("1899-12-31", "3000-01-01", "2026-02-30", "tomorrow", "15/06/2026")
NOT_A_UUID = "not-a-uuid"
NO_OBJECT = "3d0a1f6e-0000-4000-8000-000000000000"


def bad_inputs():
    """(Job class, {input: value}, field) for every refused value of every input of every Job."""
    cases = []
    for job in (
        renewals.CheckUpcomingRenewals,
        costs.MonthlyCostReport,
        costs.DetectCostAnomalies,
        invoices.CheckOverdueInvoices,
        notifications.SendContractNotifications,
        billing.ReconcileInvoices,
        allocation.CostAllocationReport,
    ):
        cases += [(job, {"as_of": value}, "as_of") for value in NOT_A_DATE]
    cases += [(coverage.FindUncoveredDevices, {"as_of": value}, "as_of") for value in NOT_A_DATE]
    # The snapshot date may not lie after today (pinned to TODAY).
    snapshot = costs.CaptureCostSnapshot
    cases += [(snapshot, {"as_of": value}, "as_of") for value in (*NOT_A_DATE, "2026-06-16")]
    for job, field, low, high in (
        (renewals.CheckUpcomingRenewals, "window_days", -1, 3651),
        (costs.MonthlyCostReport, "forecast_days", -1, 3651),
        (costs.DetectCostAnomalies, "lookback_days", 0, 3651),
        (costs.DetectCostAnomalies, "threshold_pct", 0, 1001),
        (billing.ReconcileInvoices, "grace_days", -1, 3651),
    ):
        cases += [(job, {field: value}, field) for value in (low, -1, high, 10**30, "ten", "1.5")]
    cases += [(renewals.CheckUpcomingRenewals, {"include_missed": "maybe"}, "include_missed")]
    cases += [(notifications.SendContractNotifications, {"dry_run": "maybe"}, "dry_run")]
    for job, field in (
        (renewals.CheckUpcomingRenewals, "tenant"),
        (coverage.FindUncoveredDevices, "location"),
        (coverage.FindUncoveredDevices, "tenant"),
        (coverage.FindUncoveredDevices, "role"),
        (coverage.FindUncoveredDevices, "status"),
        (imports.ImportContractsCSV, "content_type"),
        (billing.ReconcileInvoices, "provider"),
        (billing.ReconcileInvoices, "tenant"),
    ):
        cases += [(job, {field: value}, field) for value in (NOT_A_UUID, NO_OBJECT)]
    renewal_job = renewals.CheckUpcomingRenewals
    cases += [(renewal_job, {"providers": [value]}, "providers") for value in (NOT_A_UUID, NO_OBJECT)]
    cases += [(coverage.FindUncoveredDevices, {"contract_types": ["weekly"]}, "contract_types")]
    cases += [(allocation.CostAllocationReport, {"group_by": value}, "group_by") for value in ("provider", "Tenant")]
    return cases


def import_cases():
    """Import Job inputs refused before a run: a type that is not importable, no data at all."""
    snapshot_type = ContentType.objects.get_for_model(CostSnapshot).pk
    device_type = ContentType.objects.get_for_model(Device).pk
    invoice_type = ContentType.objects.get_for_model(Invoice).pk
    return [
        (imports.ImportContractsCSV, {"content_type": snapshot_type, "csv_data": "x\n1\n"}, "content_type"),
        (imports.ImportContractsCSV, {"content_type": device_type, "csv_data": "x\n1\n"}, "content_type"),
        (imports.ImportContractsCSV, {"content_type": invoice_type}, "csv_data"),
        (imports.ImportContractsCSV, {"content_type": invoice_type, "csv_data": ""}, "csv_data"),
        (imports.ImportContractsCSV, {"csv_data": "x\n1\n"}, "content_type"),
    ]


def refusal(job_class, data):
    """The message_dict of validate_data's ValidationError, or None when the data is accepted."""
    try:
        job_class.validate_data(data)
    except ValidationError as error:
        return error.message_dict
    return None


@mock.patch("nautobot_contracts.clock.today", return_value=TODAY)
class JobValidateDataTest(TestCase):
    """JobClass.validate_data() refuses each bad value with an error on that field only."""

    def test_bad_inputs_refused(self, _):
        for job_class, data, field in bad_inputs() + import_cases():
            with self.subTest(job=job_class.__name__, data=data):
                errors = refusal(job_class, data)
                self.assertIsNotNone(errors, f"{data} was accepted")
                self.assertEqual(list(errors), [field])

    def test_edges_accepted(self, _):
        for job_class, data in (
            (renewals.CheckUpcomingRenewals, {"as_of": "1900-01-01", "window_days": 0}),
            (renewals.CheckUpcomingRenewals, {"as_of": "2999-12-31", "window_days": 3650}),
            (costs.MonthlyCostReport, {"forecast_days": 0}),
            (costs.MonthlyCostReport, {"forecast_days": 3650}),
            (costs.DetectCostAnomalies, {"threshold_pct": 1, "lookback_days": 1}),
            (costs.DetectCostAnomalies, {"threshold_pct": 1000, "lookback_days": 3650}),
            (costs.CaptureCostSnapshot, {"as_of": "2026-06-15"}),
            (costs.CaptureCostSnapshot, {"as_of": "1900-01-01"}),
            (coverage.FindUncoveredDevices, {"as_of": "2026-06-15", "contract_types": ["support"]}),
            (invoices.CheckOverdueInvoices, {"as_of": "2999-12-31"}),
            (notifications.SendContractNotifications, {"as_of": "1900-01-01", "dry_run": True}),
            (billing.ReconcileInvoices, {"as_of": "2026-06-15", "grace_days": 0}),
            (billing.ReconcileInvoices, {"grace_days": 3650}),
            (allocation.CostAllocationReport, {"as_of": "2026-06-15", "group_by": "location"}),
            (allocation.CostAllocationReport, {"group_by": "cost_center"}),
            (
                imports.ImportContractsCSV,
                {"content_type": ContentType.objects.get_for_model(Invoice).pk, "csv_data": "x\n1\n"},
            ),
        ):
            with self.subTest(job=job_class.__name__, data=data):
                self.assertIsNone(refusal(job_class, data))

    def test_messages_name_the_bounds(self, _):
        self.assertEqual(
            refusal(renewals.CheckUpcomingRenewals, {"as_of": "1899-12-31"})["as_of"],
            ["Enter a date between 1900-01-01 and 2999-12-31."],
        )
        self.assertEqual(
            refusal(costs.CaptureCostSnapshot, {"as_of": "2026-06-16"})["as_of"],
            ["2026-06-16 is after today (2026-06-15): not allowed."],
        )
        self.assertEqual(
            refusal(costs.MonthlyCostReport, {"forecast_days": 3651})["forecast_days"],
            ["Ensure this value is less than or equal to 3650."],
        )
        self.assertEqual(
            refusal(costs.DetectCostAnomalies, {"threshold_pct": 0})["threshold_pct"],
            ["Ensure this value is greater than or equal to 1."],
        )


@mock.patch("nautobot_contracts.clock.today", return_value=TODAY)
@mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
class JobsAPIInputTest(APITestCase):
    """POST /api/extras/jobs/<id>/run/ answers 400 with validate_data's message and enqueues nothing."""

    def setUp(self):
        super().setUp()
        self.add_permissions("extras.run_job", "extras.view_job")

    def url(self, job_class):
        _, job_model = get_job_class_and_model(job_class.__module__, job_class.__name__)
        if not job_model.enabled:
            job_model.enabled = True
            job_model.validated_save()
        return reverse("extras-api:job-run", kwargs={"pk": job_model.pk})

    def test_bad_inputs_refused(self, *_):
        before = JobResult.objects.count()
        for job_class, data, field in bad_inputs() + import_cases():
            with self.subTest(job=job_class.__name__, data=data):
                with self.captureOnCommitCallbacks(execute=True):
                    response = self.client.post(self.url(job_class), {"data": data}, format="json", **self.header)
                self.assertHttpStatus(response, 400)
                self.assertEqual(list(response.data["errors"]), [field])
                self.assertEqual(response.data["errors"][field], refusal(job_class, data)[field])
        self.assertEqual(JobResult.objects.count(), before)

    def test_unknown_input_refused(self, *_):
        response = self.client.post(
            self.url(costs.MonthlyCostReport), {"data": {"forecast": 30}}, format="json", **self.header
        )
        self.assertHttpStatus(response, 400)
        self.assertIn("forecast", str(response.data))
        self.assertFalse(JobResult.objects.exists())
