"""The "Find devices without contract coverage" Job: inputs, result, log, CSV, REST run, restriction, query counts."""

import csv
import datetime
import io
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices
from nautobot.extras.models import FileProxy, JobLogEntry, JobResult, Role
from nautobot.users.models import ObjectPermission, User

from nautobot_contracts.jobs import coverage as coverage_jobs
from tests import factories
from tests.pinning import pin_today

MODULE = "nautobot_contracts.jobs.coverage"
JOB = "FindUncoveredDevices"
AS_OF = "2026-06-15"


def build_estate():
    """A region with two sites and a separate region; one rack carries the only contract (Active support, 2026)."""
    region = factories.make_location("Region", location_type_name="Region")
    site_a = factories.make_location("Site A", parent=region, location_type_name="Site")
    site_b = factories.make_location("Site B", parent=region, location_type_name="Site")
    elsewhere = factories.make_location("Elsewhere", location_type_name="Region")
    rack = factories.make_rack("A-R1", location=site_a)
    tenant = factories.make_tenant("Tenant T")
    covered = factories.make_device("covered-in-rack", rack=rack)
    factories.ContractAssignmentFactory(assigned_object=rack)
    uncovered_a = factories.make_device("bare-a", location=site_a, tenant=tenant)
    uncovered_b = factories.make_device("bare-b", location=site_b)
    far = factories.make_device("far-away", location=elsewhere)
    return {
        "region": region,
        "site_a": site_a,
        "tenant": tenant,
        "covered": covered,
        "uncovered": [uncovered_a, uncovered_b, far],
    }


def grant(user, app_label, model, constraints=None):
    """Give `user` view permission on one model, optionally constrained."""
    permission = ObjectPermission.objects.create(
        name=f"view {model} for {user}", actions=["view"], constraints=constraints
    )
    permission.users.add(user)
    permission.object_types.add(ContentType.objects.get(app_label=app_label, model=model))


def read_csv(job_result):
    """The rows of the CSV the job attached."""
    files = FileProxy.objects.filter(job_result=job_result)
    if len(files) != 1:
        raise AssertionError(f"expected one file, got {len(files)}")
    with files[0].file.open("rb") as handle:
        return files[0].name, list(csv.reader(io.StringIO(handle.read().decode("utf-8"))))


class JobLogsOnDefaultDatabase:
    """Write job log entries through the test's own connection.

    Nautobot logs jobs over a second connection ("job_logs") so logs survive a rolled-back job; inside a TestCase's
    transaction that connection cannot be used, which is why Nautobot's own job tests are TransactionTestCases.
    """

    def setUp(self):
        super().setUp()
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)


class CoverageJobTest(JobLogsOnDefaultDatabase, TestCase):
    """Run the Job the way a worker would (eager Celery) and check what it leaves behind."""

    @classmethod
    def setUpTestData(cls):
        cls.estate = build_estate()

    def run_job(self, username="job-runner", **job_kwargs):
        _, job_model = get_job_class_and_model(MODULE, JOB)
        job_result = run_job_for_testing(job_model, username=username, job_kwargs=job_kwargs)
        job_result.refresh_from_db()
        return job_result

    def test_meta(self):
        job_class, job_model = get_job_class_and_model(MODULE, JOB)
        self.assertEqual(job_model.name, "Find devices without contract coverage")
        self.assertEqual(job_model.grouping, "Contracts")
        self.assertTrue(job_class.read_only)

    def test_result_log_and_csv(self):
        job_result = self.run_job(as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        result = job_result.result
        self.assertEqual(
            {key: result[key] for key in ("as_of", "devices_scanned", "covered", "uncovered")},
            {"as_of": AS_OF, "devices_scanned": 4, "covered": 1, "uncovered": 3},
        )
        self.assertEqual(sorted(item["name"] for item in result["uncovered_sample"]), ["bare-a", "bare-b", "far-away"])
        warnings = JobLogEntry.objects.filter(job_result=job_result, log_level=LogLevelChoices.LOG_WARNING)
        self.assertEqual(sorted(entry.log_object for entry in warnings), ["bare-a", "bare-b", "far-away"])
        self.assertTrue(all(entry.absolute_url.startswith("/dcim/devices/") for entry in warnings))

        name, rows = read_csv(job_result)
        self.assertEqual(name, f"uncovered-devices-{AS_OF}.csv")
        self.assertEqual(rows[0], ["name", "serial", "location", "rack", "tenant", "role", "status", "platform"])
        by_name = {row[0]: row for row in rows[1:]}
        self.assertEqual(set(by_name), {"bare-a", "bare-b", "far-away"})
        self.assertEqual(
            by_name["bare-a"], ["bare-a", "", "Region → Site A", "", "Tenant T", "Access Switch", "Active", ""]
        )
        self.assertEqual(by_name["far-away"][2], "Elsewhere")

    def test_location_includes_descendants(self):
        result = self.run_job(as_of=AS_OF, location=str(self.estate["region"].pk)).result
        self.assertEqual((result["devices_scanned"], result["uncovered"]), (3, 2))
        result = self.run_job(as_of=AS_OF, location=str(self.estate["site_a"].pk)).result
        self.assertEqual((result["devices_scanned"], result["uncovered"]), (2, 1))

    def test_tenant_role_status_filters(self):
        result = self.run_job(as_of=AS_OF, tenant=str(self.estate["tenant"].pk)).result
        self.assertEqual([item["name"] for item in result["uncovered_sample"]], ["bare-a"])
        other_role = Role.objects.create(name="Unused role")
        result = self.run_job(as_of=AS_OF, role=str(other_role.pk)).result
        self.assertEqual(result["devices_scanned"], 0)
        result = self.run_job(as_of=AS_OF, status=str(self.estate["covered"].status.pk)).result
        self.assertEqual(result["devices_scanned"], 4)

    def test_contract_types_per_run(self):
        result = self.run_job(as_of=AS_OF, contract_types=["license"]).result
        self.assertEqual(result["uncovered"], 4)

    def test_as_of(self):
        # The rack's contract is a 2026 one: a year later nothing is covered.
        self.assertEqual(self.run_job(as_of="2027-06-15").result["uncovered"], 4)

    def test_as_of_defaults_to_today(self):
        pin_today(self, datetime.date(2027, 6, 15))
        # Pinned a year after the rack's 2026 contract: the default date is the pinned one, so nothing is covered.
        result = self.run_job().result
        self.assertEqual(result["as_of"], "2027-06-15")
        self.assertEqual(result["uncovered"], 4)

    def test_restricted_to_running_user(self):
        user = User.objects.create_user(username="limited")
        grant(user, "nautobot_contracts", "contract")
        grant(user, "nautobot_contracts", "contractassignment")
        grant(user, "dcim", "device", constraints={"location__name": "Site A"})
        result = self.run_job(username="limited", as_of=AS_OF).result
        self.assertEqual((result["devices_scanned"], result["covered"], result["uncovered"]), (2, 1, 1))
        _, rows = read_csv(JobResult.objects.get(pk=self.run_job(username="limited", as_of=AS_OF).pk))
        self.assertEqual([row[0] for row in rows[1:]], ["bare-a"])

    def test_bad_date_is_a_form_error(self):
        job_class = coverage_jobs.FindUncoveredDevices
        for bad in ("2026-02-30", "15/06/2026", "tomorrow"):
            form = job_class.as_form(data={"as_of": bad})
            self.assertFalse(form.is_valid())
            self.assertIn("as_of", form.errors)
        self.assertTrue(job_class.as_form(data={"as_of": AS_OF}).is_valid())

    def test_query_count_independent_of_device_count(self):
        def job_queries():
            _, job_model = get_job_class_and_model(MODULE, JOB)
            with CaptureQueriesContext(connections["default"]) as queries:
                job_result = run_job_for_testing(job_model, username="job-runner", job_kwargs={"as_of": "2027-01-01"})
            job_result.refresh_from_db()
            return len(queries), job_result.result["uncovered"], len(job_result.result["uncovered_sample"])

        job_queries()  # the first run creates the user and warms caches
        small = job_queries()
        for index in range(40):
            factories.make_device(f"bulk-{index}", location=self.estate["site_a"])
        large = job_queries()
        self.assertEqual((small[1:], large[1:]), ((4, 4), (44, 44)))
        # The sample's log lines are one bulk insert, so the count is flat, sample included.
        self.assertEqual(small[0], large[0])
        self.assertLess(large[0], 50)

    def test_sample_is_capped(self):
        with mock.patch.object(coverage_jobs, "SAMPLE_SIZE", 2):
            job_result = self.run_job(as_of=AS_OF)
        self.assertEqual(len(job_result.result["uncovered_sample"]), 2)
        warnings = JobLogEntry.objects.filter(job_result=job_result, log_level=LogLevelChoices.LOG_WARNING)
        self.assertEqual(warnings.count(), 2)
        _, rows = read_csv(job_result)
        self.assertEqual(len(rows) - 1, 3)  # the CSV still lists every uncovered device


class CoverageJobAPITest(JobLogsOnDefaultDatabase, APITestCase):
    """The Job runs through Nautobot's REST Jobs API; a bad date is refused before any JobResult exists."""

    @classmethod
    def setUpTestData(cls):
        cls.estate = build_estate()

    def setUp(self):
        super().setUp()
        self.add_permissions("extras.run_job", "extras.view_job", "dcim.view_device")
        self.add_permissions("nautobot_contracts.view_contract", "nautobot_contracts.view_contractassignment")
        _, self.job_model = get_job_class_and_model(MODULE, JOB)
        self.url = reverse("extras-api:job-run", kwargs={"pk": self.job_model.pk})

    @mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
    def test_run(self, _):
        # The job is sent to Celery (eager in tests) when the request's transaction commits.
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, {"data": {"as_of": AS_OF}}, format="json", **self.header)
        self.assertHttpStatus(response, 201)
        job_result = JobResult.objects.get(pk=response.data["job_result"]["id"])
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["uncovered"], 3)

    @mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
    def test_bad_date_refused(self, _):
        before = JobResult.objects.count()
        response = self.client.post(self.url, {"data": {"as_of": "2026-13-01"}}, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("as_of", str(response.data))
        self.assertEqual(JobResult.objects.count(), before)
