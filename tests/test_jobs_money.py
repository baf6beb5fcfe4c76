"""The four money Jobs run as a worker runs them (eager Celery): results, logs, CSVs, inputs, restriction, queries."""

import csv
import datetime
from decimal import Decimal
import io
from unittest import mock

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices
from nautobot.extras.models import FileProxy, JobLogEntry, JobResult
from nautobot.users.models import ObjectPermission, User

from nautobot_contracts.choices import BillingPeriodChoices as Period
from nautobot_contracts.jobs import costs as cost_jobs, renewals as renewal_jobs
from nautobot_contracts.models import Contract, ContractAlert, CostSnapshot
from tests import factories
from tests.pinning import pin_today
from tests.test_services_money import build_dataset

RENEWALS = ("nautobot_contracts.jobs.renewals", "CheckUpcomingRenewals")
REPORT = ("nautobot_contracts.jobs.costs", "MonthlyCostReport")
SNAPSHOT = ("nautobot_contracts.jobs.costs", "CaptureCostSnapshot")
ANOMALIES = ("nautobot_contracts.jobs.costs", "DetectCostAnomalies")
AS_OF = "2026-03-01"
TODAY = datetime.date(2026, 6, 15)  # pinned: every test runs with clock.today() patched to it
DAY = datetime.timedelta(days=1)


def run(job, username="job-runner", **job_kwargs):
    """Run a Job synchronously and return its refreshed JobResult."""
    _, job_model = get_job_class_and_model(*job)
    job_result = run_job_for_testing(job_model, username=username, job_kwargs=job_kwargs)
    job_result.refresh_from_db()
    return job_result


def read_csv(job_result):
    """(file name, rows as dicts) of the one CSV the job attached."""
    files = list(FileProxy.objects.filter(job_result=job_result))
    if len(files) != 1:
        raise AssertionError(f"expected one file, got {len(files)}")
    with files[0].file.open("rb") as handle:
        return files[0].name, list(csv.DictReader(io.StringIO(handle.read().decode("utf-8"))))


def logs(job_result, level=None):
    """The job's own log entries (Nautobot's start/finish lines left out)."""
    entries = JobLogEntry.objects.filter(job_result=job_result).exclude(grouping__in=["initialization", "post_run"])
    return entries.filter(log_level=level) if level else entries


def grant(user, model, constraints=None, app_label="nautobot_contracts"):
    """Give `user` view permission on one model, optionally constrained."""
    permission = ObjectPermission.objects.create(
        name=f"view {model} for {user}", actions=["view"], constraints=constraints
    )
    permission.users.add(user)
    permission.object_types.add(ContentType.objects.get(app_label=app_label, model=model))


def limited_user(name="limited"):
    """A user who is not a superuser (permissions are granted by each test)."""
    return User.objects.create_user(username=name, is_superuser=False)


def data_queries(job, **job_kwargs):
    """Run a job and count its queries, leaving out the log handler's (one JobResult lookup + insert per line)."""
    with CaptureQueriesContext(connections["default"]) as queries:
        job_result = run(job, **job_kwargs)
    sql = [query["sql"] for query in queries.captured_queries]
    logging_sql = [
        statement
        for statement in sql
        if "extras_joblogentry" in statement or statement.startswith('SELECT "extras_jobresult".')
    ]
    return job_result, len(sql) - len(logging_sql)


def bulk_contracts(providers, start_date, end_date, count=45, **per_index):
    """`count` Active contracts of 10.00, rotating providers and currencies (USD, EUR, GBP), half auto-renewing.

    `end_date` and each of `per_index` are functions of the contract's index.
    """
    active = factories.status_for(Contract, "Active")
    Contract.objects.bulk_create(
        Contract(
            name=f"bulk-{index}",
            provider=providers[index % len(providers)],
            status=active,
            currency=("USD", "EUR", "GBP")[index % 3],
            start_date=start_date,
            end_date=end_date(index),
            auto_renew=bool(index % 2),
            recurring_cost=Decimal("10.00"),
            **{name: value(index) for name, value in per_index.items()},
        )
        for index in range(count)
    )


class JobTestCase(TestCase):
    """A TestCase whose job log entries go through the test's own connection.

    Nautobot writes job logs over a second connection ("job_logs") so they survive a rolled-back job; that connection
    cannot be used inside a TestCase's transaction, so the log is written through the default one here.
    """

    def setUp(self):
        super().setUp()
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)
        pin_today(self, TODAY)


class JobMetaTest(JobTestCase):
    """Names, grouping, read-only flags."""

    def test_meta(self):
        expected = {
            RENEWALS: ("Check upcoming renewals", False),  # writes renewal alerts
            REPORT: ("Monthly cost report", True),
            SNAPSHOT: ("Capture cost history snapshot", False),
            ANOMALIES: ("Detect cost anomalies", False),  # writes cost anomaly alerts
        }
        for job, (name, read_only) in expected.items():
            job_class, job_model = get_job_class_and_model(*job)
            with self.subTest(job=name):
                self.assertEqual(job_model.name, name)
                self.assertEqual(job_model.grouping, "Contracts")
                self.assertEqual(job_class.read_only, read_only)
                self.assertFalse(job_class.has_sensitive_variables)


class JobInputValidationTest(JobTestCase):
    """Inputs are checked as form data: bad values are errors before any run; omitted ones take their defaults."""

    def assert_refused(self, job_class, data, field):
        with self.assertRaises(ValidationError) as raised:
            job_class.validate_data(data)
        self.assertIn(field, raised.exception.message_dict)

    def test_renewals(self):
        job = renewal_jobs.CheckUpcomingRenewals
        self.assert_refused(job, {"window_days": -1}, "window_days")
        self.assert_refused(job, {"window_days": "soon"}, "window_days")
        cleaned = job.validate_data({})
        self.assertEqual((cleaned["window_days"], cleaned["include_missed"]), (90, True))
        self.assertFalse(job.validate_data({"include_missed": False})["include_missed"])
        self.assertEqual(job.validate_data({"window_days": 0})["window_days"], 0)

    def test_cost_report(self):
        job = cost_jobs.MonthlyCostReport
        for bad in ("2026-02-30", "01/03/2026x", "tomorrow"):
            self.assert_refused(job, {"as_of": bad}, "as_of")
        self.assert_refused(job, {"forecast_days": -5}, "forecast_days")
        self.assertEqual(job.validate_data({"as_of": AS_OF})["as_of"], AS_OF)
        self.assertIsNone(job.validate_data({})["as_of"])

    def test_snapshot(self):
        self.assert_refused(cost_jobs.CaptureCostSnapshot, {"as_of": "yesterday"}, "as_of")
        self.assertEqual(cost_jobs.CaptureCostSnapshot.validate_data({"as_of": AS_OF})["as_of"], AS_OF)

    def test_anomalies(self):
        job = cost_jobs.DetectCostAnomalies
        for bad in (0, -3, 1001):
            self.assert_refused(job, {"threshold_pct": bad}, "threshold_pct")
        self.assert_refused(job, {"lookback_days": 0}, "lookback_days")
        cleaned = job.validate_data({})
        self.assertEqual((cleaned["threshold_pct"], cleaned["lookback_days"]), (20, 28))


def renewal_contract(name, provider, days_to_deadline, notice=30, **kwargs):
    """A contract started a year ago whose notice deadline is `days_to_deadline` days from today."""
    status = kwargs.pop("status", "Active")
    return factories.ContractFactory(
        name=name,
        provider=provider,
        status=factories.status_for(Contract, status),
        start_date=TODAY - relativedelta(years=1),
        end_date=TODAY + datetime.timedelta(days=days_to_deadline + notice),
        notice_period_days=notice,
        **kwargs,
    )


class RenewalJobTest(JobTestCase):
    """Check upcoming renewals."""

    @classmethod
    def setUpTestData(cls):
        cls.acme = factories.ServiceProviderFactory(name="Acme")
        cls.globex = factories.ServiceProviderFactory(name="Globex")
        cls.initech = factories.ServiceProviderFactory(name="Initech")
        cls.tenant = factories.make_tenant("Ops")
        renewal_contract("acme-missed", cls.acme, -5, recurring_cost=Decimal("100.00"))
        renewal_contract(
            "globex-urgent-auto",
            cls.globex,
            20,
            currency="EUR",
            auto_renew=True,
            recurring_cost=Decimal("300.00"),
            billing_period=Period.PERIOD_QUARTERLY,
            renewal_term_months=24,
        )
        renewal_contract(
            "acme-urgent", cls.acme, 7, recurring_cost=Decimal("1000.00"), billing_period=Period.PERIOD_ANNUAL
        )
        renewal_contract(
            "initech-soon",
            cls.initech,
            25,
            currency="GBP",
            recurring_cost=Decimal("100.00"),
            billing_period=Period.PERIOD_SEMIANNUAL,
            tenant=cls.tenant,
        )
        renewal_contract("globex-upcoming", cls.globex, 60, recurring_cost=Decimal("10.00"))
        renewal_contract("acme-far", cls.acme, 200)
        renewal_contract("acme-one-time", cls.acme, 40, billing_period=Period.PERIOD_ONE_TIME)
        for status in ("Pending", "Cancelled", "Expired"):
            renewal_contract(f"acme-{status.lower()}", cls.acme, 5, status=status)
        # Ended a year ago less 10 days and auto-renews yearly: rolled into a term ending about 10 days from now.
        factories.ContractFactory(
            name="globex-rolled",
            provider=cls.globex,
            start_date=TODAY - relativedelta(years=3),
            end_date=TODAY + DAY * 10 - relativedelta(years=1),
            auto_renew=True,
        )

    def test_result_logs_and_csv(self):
        job_result = run(RENEWALS)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        result = job_result.result
        self.assertEqual(set(result), {"as_of", "window_days", "counts", "contracts", "alerts"})
        self.assertEqual((result["as_of"], result["window_days"]), (TODAY.isoformat(), 90))
        self.assertEqual(result["counts"], {"missed": 1, "urgent": 3, "soon": 1, "upcoming": 2})
        by_name = {row["name"]: row for row in result["contracts"]}
        self.assertEqual(
            [row["name"] for row in result["contracts"]],
            ["acme-missed", "acme-urgent", "globex-rolled", "globex-urgent-auto", "initech-soon", "acme-one-time",
             "globex-upcoming"],
        )  # fmt: skip
        urgent_auto = by_name["globex-urgent-auto"]
        contract = Contract.objects.get(name="globex-urgent-auto")
        self.assertEqual(
            urgent_auto,
            {
                "id": str(contract.pk),
                "name": "globex-urgent-auto",
                "provider": "Globex",
                "tier": "urgent",
                "term_end": (TODAY + DAY * 50).isoformat(),
                "notice_deadline": (TODAY + DAY * 20).isoformat(),
                "days_to_deadline": 20,
                "auto_renew": True,
                "currency": "EUR",
                "renewal_value": "2400.00",  # 300 a quarter = 100 a month, x 24 months
            },
        )
        self.assertEqual(by_name["acme-missed"]["days_to_deadline"], -5)
        self.assertEqual(by_name["acme-urgent"]["renewal_value"], "1000.00")
        self.assertEqual(by_name["initech-soon"]["renewal_value"], "200.00")
        self.assertEqual(by_name["acme-one-time"]["renewal_value"], "0.00")
        self.assertEqual(by_name["globex-rolled"]["tier"], "urgent")

        # One line per contract, linked to it; missed and urgent as warnings.
        per_contract = logs(job_result).exclude(log_object="")
        self.assertEqual(sorted(entry.log_object for entry in per_contract), sorted(by_name))
        warnings = logs(job_result, LogLevelChoices.LOG_WARNING)
        self.assertEqual(
            sorted(entry.log_object for entry in warnings),
            ["acme-missed", "acme-urgent", "globex-rolled", "globex-urgent-auto"],
        )
        self.assertTrue(all(entry.absolute_url for entry in per_contract))
        missed = warnings.get(log_object="acme-missed").message
        self.assertIn("will lapse", missed)
        self.assertIn("renewal value 1200.00 USD", missed)

        name, rows = read_csv(job_result)
        self.assertEqual(name, f"upcoming-renewals-{TODAY.isoformat()}.csv")
        self.assertEqual([row["name"] for row in rows], [row["name"] for row in result["contracts"]])
        self.assertEqual(rows[0]["renewal_value"], result["contracts"][0]["renewal_value"])

    def test_inputs(self):
        result = run(RENEWALS, window_days=30, include_missed=False).result
        self.assertEqual(result["counts"], {"missed": 0, "urgent": 3, "soon": 1, "upcoming": 0})
        result = run(RENEWALS, providers=[str(self.globex.pk)]).result
        self.assertEqual(
            [row["name"] for row in result["contracts"]], ["globex-rolled", "globex-urgent-auto", "globex-upcoming"]
        )
        result = run(RENEWALS, tenant=str(self.tenant.pk)).result
        self.assertEqual([row["name"] for row in result["contracts"]], ["initech-soon"])
        self.assertEqual(run(RENEWALS, window_days=250).result["counts"]["upcoming"], 3)

    def test_restricted_to_running_user(self):
        user = limited_user()
        grant(user, "contract", constraints={"provider__name": "Acme"})
        result = run(RENEWALS, username=user.username).result
        self.assertEqual([row["name"] for row in result["contracts"]], ["acme-missed", "acme-urgent", "acme-one-time"])
        nobody = limited_user("nobody")
        self.assertEqual(run(RENEWALS, username=nobody.username).result["contracts"], [])

    def test_queries_do_not_grow_with_contracts(self):
        run(RENEWALS)  # creates the user, warms caches
        ContractAlert.objects.all().delete()  # both measured runs create their alerts (in bulk)
        small_result, small = data_queries(RENEWALS)
        bulk_contracts((self.acme, self.globex, self.initech), TODAY - DAY * 100, lambda i: TODAY + DAY * (i % 80))
        ContractAlert.objects.all().delete()
        large_result, large = data_queries(RENEWALS)
        self.assertGreater(large_result.result["alerts"]["created"], small_result.result["alerts"]["created"])
        self.assertEqual(len(large_result.result["contracts"]), len(small_result.result["contracts"]) + 45)
        self.assertEqual(large, small)


class CostJobsTest(JobTestCase):
    """Monthly cost report and Capture cost history snapshot on the worked data set of test_services_money."""

    @classmethod
    def setUpTestData(cls):
        build_dataset(cls)
        factories.ExchangeRateFactory(currency="EUR", rate=Decimal("1.10"), effective_date=datetime.date(2026, 1, 1))
        factories.ExchangeRateFactory(currency="EUR", rate=Decimal("1.20"), effective_date=datetime.date(2026, 2, 15))
        factories.ExchangeRateFactory(currency="EUR", rate=Decimal("9.99"), effective_date=datetime.date(2026, 3, 2))
        covered = factories.make_device("covered")
        factories.make_device("bare-1")
        factories.make_device("bare-2")
        factories.ContractAssignmentFactory(contract=Contract.objects.get(name="u-monthly"), assigned_object=covered)

    def test_cost_report(self):
        job_result = run(REPORT, as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(
            job_result.result,
            {
                "as_of": AS_OF,
                "reporting_currency": "USD",
                "per_currency": {
                    "EUR": {
                        "monthly_burn": "150.00",
                        "annualized": "1800.00",
                        "renewal_forecast": "650.00",
                        "active_contracts": 3,
                    },
                    "GBP": {
                        "monthly_burn": "100.00",
                        "annualized": "1200.00",
                        "renewal_forecast": "0.00",
                        "active_contracts": 3,
                    },
                    "USD": {
                        "monthly_burn": "1200.00",
                        "annualized": "14400.00",
                        "renewal_forecast": "2400.00",
                        "active_contracts": 4,
                    },
                },
                "total_monthly_burn": "1380.00",  # 1200 USD + 150 EUR x 1.20; GBP has no rate
                "unconverted": ["GBP"],
                "top_vendors": [
                    {"provider": "Initech", "currency": "EUR", "monthly_burn": "150.00"},
                    {"provider": "Globex", "currency": "GBP", "monthly_burn": "100.00"},
                    {"provider": "Acme", "currency": "USD", "monthly_burn": "1100.00"},
                    {"provider": "Globex", "currency": "USD", "monthly_burn": "100.00"},
                ],
                "coverage_gap_count": 2,
            },
        )
        warnings = logs(job_result, LogLevelChoices.LOG_WARNING)
        self.assertEqual([entry.message for entry in warnings], [
            "No exchange rate into USD on or before 2026-03-01 for GBP: left out of the total."
        ])  # fmt: skip
        vendor_lines = logs(job_result).filter(message__startswith="Top vendor")
        self.assertEqual(sorted(entry.log_object for entry in vendor_lines), ["Acme", "Globex", "Globex", "Initech"])
        name, rows = read_csv(job_result)
        self.assertEqual(name, f"monthly-cost-report-{AS_OF}.csv")
        self.assertEqual([(row["currency"], row["monthly_burn"]) for row in rows], [
            ("EUR", "150.00"), ("GBP", "100.00"), ("USD", "1200.00")
        ])  # fmt: skip

    def test_cost_report_forecast_days_and_default_date(self):
        result = run(REPORT, as_of=AS_OF, forecast_days=0).result
        self.assertEqual(result["per_currency"]["EUR"]["renewal_forecast"], "50.00")
        self.assertEqual(run(REPORT).result["as_of"], TODAY.isoformat())

    def test_cost_report_restricted(self):
        user = limited_user()
        grant(user, "contract", constraints={"provider__name": "Acme"})
        grant(user, "device", constraints={"name": "bare-1"}, app_label="dcim")
        result = run(REPORT, username=user.username, as_of=AS_OF).result
        self.assertEqual(list(result["per_currency"]), ["USD"])
        self.assertEqual(result["per_currency"]["USD"]["monthly_burn"], "1100.00")
        self.assertEqual(result["total_monthly_burn"], "1100.00")
        self.assertEqual(result["unconverted"], [])
        self.assertEqual(result["top_vendors"], [{"provider": "Acme", "currency": "USD", "monthly_burn": "1100.00"}])
        self.assertEqual(result["coverage_gap_count"], 1)

    def test_snapshot(self):
        CostSnapshot.objects.create(
            snapshot_date=datetime.date(2026, 2, 28),
            currency="JPY",
            monthly_burn=5,
            renewal_90d=0,
            active_contract_count=1,
        )
        job_result = run(SNAPSHOT, as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        expected_rows = [
            {"snapshot_date": AS_OF, "currency": "EUR", "monthly_burn": "150.00", "renewal_90d": "650.00",
             "active_contract_count": 3, "coverage_gap_count": 2},
            {"snapshot_date": AS_OF, "currency": "GBP", "monthly_burn": "100.00", "renewal_90d": "0.00",
             "active_contract_count": 3, "coverage_gap_count": 2},
            {"snapshot_date": AS_OF, "currency": "JPY", "monthly_burn": "0.00", "renewal_90d": "0.00",
             "active_contract_count": 0, "coverage_gap_count": 2},
            {"snapshot_date": AS_OF, "currency": "USD", "monthly_burn": "1200.00", "renewal_90d": "2400.00",
             "active_contract_count": 4, "coverage_gap_count": 2},
        ]  # fmt: skip
        self.assertEqual(
            job_result.result,
            {"as_of": AS_OF, "written": 4, "updated": 0, "skipped": 0, "rows": expected_rows, "skipped_rows": []},
        )
        stored = CostSnapshot.objects.filter(snapshot_date=AS_OF)
        ids = set(stored.values_list("pk", flat=True))
        self.assertEqual(len(ids), 4)
        self.assertEqual(
            sorted(entry.log_object for entry in logs(job_result).exclude(log_object="")),
            [f"{AS_OF} {code}" for code in ("EUR", "GBP", "JPY", "USD")],
        )
        # A past day is write-once: a re-run keeps the rows it finds and writes nothing.
        again = run(SNAPSHOT, as_of=AS_OF)
        self.assertEqual(
            again.result,
            {"as_of": AS_OF, "written": 0, "updated": 0, "skipped": 4, "rows": [], "skipped_rows": expected_rows},
        )
        self.assertEqual(set(CostSnapshot.objects.filter(snapshot_date=AS_OF).values_list("pk", flat=True)), ids)

    def test_snapshot_refused_for_partial_view(self):
        user = limited_user()
        grant(user, "contract", constraints={"provider__name": "Acme"})
        grant(user, "device", app_label="dcim")
        job_result = run(SNAPSHOT, username=user.username, as_of=AS_OF)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertFalse(CostSnapshot.objects.exists())
        failure = logs(job_result, LogLevelChoices.LOG_FAILURE).get()
        self.assertIn("may not view all contracts", failure.message)
        # Seeing everything (without being a superuser) is enough.
        everything = limited_user("sees-all")
        grant(everything, "contract")
        grant(everything, "contractassignment")
        grant(everything, "device", app_label="dcim")
        self.assertEqual(run(SNAPSHOT, username=everything.username, as_of=AS_OF).status, "SUCCESS")
        self.assertEqual(CostSnapshot.objects.count(), 3)

    def test_queries_do_not_grow_with_contracts(self):
        jobs = (REPORT, SNAPSHOT)
        for job in jobs:
            run(job, as_of=AS_OF)  # creates the user, warms caches
        small = {job: data_queries(job, as_of=AS_OF)[1] for job in jobs}
        bulk_contracts(
            (self.acme, self.globex, self.initech),
            datetime.date(2025, 1, 1),
            lambda i: datetime.date(2026, 3, 1) + DAY * i,
            billing_period=lambda i: (Period.PERIOD_MONTHLY, Period.PERIOD_ANNUAL)[i % 2],
        )
        report, large_report = data_queries(REPORT, as_of=AS_OF)
        self.assertEqual(sum(item["active_contracts"] for item in report.result["per_currency"].values()), 10 + 45)
        _, large_snapshot = data_queries(SNAPSHOT, as_of=AS_OF)
        self.assertEqual((large_report, large_snapshot), (small[REPORT], small[SNAPSHOT]))


class AnomalyJobTest(JobTestCase):
    """Detect cost anomalies over a history ending yesterday."""

    @classmethod
    def setUpTestData(cls):
        latest, baseline, between = TODAY - DAY, TODAY - DAY * 30, TODAY - DAY * 10
        for day, currency, burn, renewal in (
            (baseline, "USD", "1000.00", "100.00"),
            (baseline, "EUR", "100.00", "100.00"),
            (between, "USD", "9000.00", "100.00"),
            (latest, "USD", "1500.00", "100.00"),
            (latest, "EUR", "100.00", "75.00"),
            (latest, "GBP", "40.00", "0.00"),
        ):
            factories.CostSnapshotFactory(
                snapshot_date=day, currency=currency, monthly_burn=Decimal(burn), renewal_90d=Decimal(renewal)
            )
        cls.latest, cls.baseline = latest, baseline

    def test_result_and_warnings(self):
        job_result = run(ANOMALIES)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        latest, baseline = self.latest.isoformat(), self.baseline.isoformat()
        self.assertEqual(
            job_result.result,
            {
                "anomalies": [
                    {"currency": "EUR", "metric": "renewal_90d", "kind": "fall", "baseline_date": baseline,
                     "baseline": "100.00", "current_date": latest, "current": "75.00", "pct_change": "-25.00"},
                    {"currency": "GBP", "metric": "monthly_burn", "kind": "new", "baseline_date": baseline,
                     "baseline": None, "current_date": latest, "current": "40.00", "pct_change": None},
                    {"currency": "USD", "metric": "monthly_burn", "kind": "rise", "baseline_date": baseline,
                     "baseline": "1000.00", "current_date": latest, "current": "1500.00", "pct_change": "50.00"},
                ],
                "currencies_checked": ["EUR", "GBP", "USD"],
                "as_of": TODAY.isoformat(),
                # The EUR fall (-25%) and the USD rise (+50%) beyond the 20% threshold; "new" raises no alert.
                "alerts": {"created": 2, "updated": 0, "resolved": 0},
            },
        )  # fmt: skip
        warnings = logs(job_result, LogLevelChoices.LOG_WARNING)
        self.assertEqual(warnings.count(), 3)
        self.assertIn("USD monthly_burn rise 50.00%", " ".join(entry.message for entry in warnings))

    def test_threshold_and_lookback(self):
        result = run(ANOMALIES, threshold_pct=60).result
        self.assertEqual([item["kind"] for item in result["anomalies"]], ["new"])
        # A 5-day lookback compares with the snapshot 10 days ago: USD 9000 -> 1500.
        result = run(ANOMALIES, lookback_days=5).result
        usd = next(item for item in result["anomalies"] if item["currency"] == "USD")
        self.assertEqual((usd["kind"], usd["pct_change"]), ("fall", "-83.33"))

    def test_stale_history(self):
        CostSnapshot.objects.filter(snapshot_date__gt=self.baseline).delete()
        job_result = run(ANOMALIES, lookback_days=10)  # latest is 30 days old, more than 2 x 10
        kinds = [item["kind"] for item in job_result.result["anomalies"]]
        # Nothing is 10 days older than the latest snapshot either: its currencies have no baseline.
        self.assertEqual(kinds, ["stale", "new", "new"])
        self.assertEqual(logs(job_result, LogLevelChoices.LOG_WARNING).count(), 3)

    def test_restricted_to_running_user(self):
        user = limited_user()
        grant(user, "costsnapshot", constraints={"currency": "USD"})
        result = run(ANOMALIES, username=user.username).result
        self.assertEqual(result["currencies_checked"], ["USD"])
        self.assertEqual([item["kind"] for item in result["anomalies"]], ["rise"])

    def test_queries_do_not_grow_with_history(self):
        run(ANOMALIES)
        _, small = data_queries(ANOMALIES)
        for index in range(40):
            factories.CostSnapshotFactory(snapshot_date=TODAY - DAY * (100 + index), currency="USD")
        _, large = data_queries(ANOMALIES)
        self.assertEqual(large, small)


class JobsRestAPITest(APITestCase):
    """The Jobs run through Nautobot's REST Jobs API; bad inputs are refused before any JobResult exists."""

    def setUp(self):
        super().setUp()
        self.add_permissions("extras.run_job", "extras.view_job", "nautobot_contracts.view_contract")
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)
        pin_today(self, TODAY)

    @classmethod
    def setUpTestData(cls):
        build_dataset(cls)

    def url(self, job):
        _, job_model = get_job_class_and_model(*job)
        return reverse("extras-api:job-run", kwargs={"pk": job_model.pk})

    @mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
    def test_bad_inputs_refused(self, _):
        before = JobResult.objects.count()
        for job, data, field in (
            (RENEWALS, {"window_days": -1}, "window_days"),
            (REPORT, {"as_of": "2026-13-01"}, "as_of"),
            (REPORT, {"forecast_days": -1}, "forecast_days"),
            (SNAPSHOT, {"as_of": "not a date"}, "as_of"),
            (ANOMALIES, {"threshold_pct": 0}, "threshold_pct"),
            (ANOMALIES, {"threshold_pct": 5000}, "threshold_pct"),
            (ANOMALIES, {"lookback_days": 0}, "lookback_days"),
        ):
            with self.subTest(job=job[1], data=data):
                response = self.client.post(self.url(job), {"data": data}, format="json", **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.data["errors"])
        self.assertEqual(JobResult.objects.count(), before)

    @mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
    def test_run_with_defaults(self, _):
        # The job is sent to Celery (eager in tests) when the request's transaction commits.
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url(RENEWALS), {"data": {}}, format="json", **self.header)
        self.assertHttpStatus(response, 201)
        job_result = JobResult.objects.get(pk=response.data["job_result"]["id"])
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        self.assertEqual(job_result.result["window_days"], 90)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url(REPORT), {"data": {"as_of": AS_OF}}, format="json", **self.header)
        self.assertHttpStatus(response, 201)
        job_result = JobResult.objects.get(pk=response.data["job_result"]["id"])
        self.assertEqual(job_result.result["per_currency"]["USD"]["monthly_burn"], "1200.00")
