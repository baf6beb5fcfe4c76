"""The four money Jobs run by a real Celery worker, exactly as Nautobot documents: POST .../run/, then poll.

The worker is a subprocess (`nautobot-server celery worker --pool solo`) pointed at this session's test database.
It can only see committed rows, so this is not a TestCase: the test commits its own data and deletes exactly what it
created afterwards. It never flushes the database (a TransactionTestCase would, wiping the rows migrations created,
which a reused test database keeps for later runs). The broker is a private `redis-server` on a free port (database
18; the worker's cache uses 19), so no shared Redis database is touched; without a redis-server binary the configured
Redis is used at those indexes. Everything started here is stopped in cleanups, whatever happens.
"""

import datetime
from decimal import Decimal
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

from celery import states
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.test import SimpleTestCase
from nautobot.core.celery import app as celery_app
from nautobot.core.utils.cache import construct_cache_key
from nautobot.dcim.models import Device
from nautobot.extras.models import FileProxy, Job, JobResult, ObjectChange
from nautobot.extras.utils import get_celery_queues, get_worker_count
from nautobot.users.models import ObjectPermission, Token, User
import pytest
import redis
from rest_framework.test import APIClient

from nautobot_contracts import clock
from nautobot_contracts.choices import BillingPeriodChoices as Period
from nautobot_contracts.models import Contract, ContractAlert, CostSnapshot, ExchangeRate, Invoice, ServiceProvider
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
NAUTOBOT_SERVER = ROOT / ".venv" / "bin" / "nautobot-server"
CONFIG = ROOT / "development" / "nautobot_config.py"
BROKER_DB = int(os.getenv("NAUTOBOT_CONTRACTS_ITEST_REDIS_DB_BROKER", "18"))
WORKER_CACHE_DB = int(os.getenv("NAUTOBOT_CONTRACTS_ITEST_REDIS_DB_CACHE", "19"))
PREFIX = "itest-money-"
JOB_NAMES = {
    "CheckUpcomingRenewals": "Check upcoming renewals",
    "MonthlyCostReport": "Monthly cost report",
    "CaptureCostSnapshot": "Capture cost history snapshot",
    "DetectCostAnomalies": "Detect cost anomalies",
    "CheckOverdueInvoices": "Check overdue invoices",
}
WORKER_START_TIMEOUT = 90
JOB_TIMEOUT = 60


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process, timeout=20):
    """Stop a subprocess this test started (SIGTERM, then SIGKILL), with anything in its own session."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)


@pytest.mark.integration
# A SimpleTestCase wraps nothing in a transaction; the marker only makes pytest-django set the test databases up.
@pytest.mark.django_db(databases=["default", "job_logs"])
class JobsOverRestWithCeleryWorkerTest(SimpleTestCase):
    """POST /api/extras/jobs/<name>/run/ for each Job, poll its JobResult, read result, logs and CSV."""

    databases = {"default", "job_logs"}

    def setUp(self):
        super().setUp()
        # The worker runs in its own process, so its clock cannot be patched: the real date, read once per test.
        self.today = clock.today()
        self.log_dir = Path(tempfile.mkdtemp(prefix="nc-itest-"))
        self.addCleanup(shutil.rmtree, self.log_dir, ignore_errors=True)
        self.broker_url, redis_host, redis_port = self.start_redis()
        self.use_broker_in_this_process(self.broker_url)
        # Fixed once: a run that straddles midnight must still clean up the dates it wrote.
        self.snapshot_dates = [self.today, self.today - datetime.timedelta(days=30)]
        self.remove_leftovers(earlier_runs=True)
        self.addCleanup(self.remove_leftovers)
        self.create_data()
        self.client = self.api_client()
        self.enable_jobs()
        self.start_worker(redis_host, redis_port)

    # -- services --------------------------------------------------------------------------------------------------

    def start_redis(self):
        """A private redis-server with enough databases, or the configured Redis when there is no binary."""
        binary = shutil.which("redis-server") or next(
            (path for path in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(path).is_file()), None
        )
        if binary is None:
            host = os.getenv("NAUTOBOT_REDIS_HOST", "127.0.0.1")
            port = int(os.getenv("NAUTOBOT_REDIS_PORT", "6379"))
            try:
                redis.Redis(host=host, port=port, db=max(BROKER_DB, WORKER_CACHE_DB)).ping()
            except redis.exceptions.ResponseError as error:
                self.fail(
                    f"Redis at {host}:{port} has no database {max(BROKER_DB, WORKER_CACHE_DB)} ({error}); install "
                    "redis-server or set NAUTOBOT_CONTRACTS_ITEST_REDIS_DB_BROKER/_CACHE to free indexes."
                )
            return f"redis://{host}:{port}/{BROKER_DB}", host, port
        port = free_port()
        process = subprocess.Popen(  # noqa: S603
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--databases", "32", "--dir", str(self.log_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.addCleanup(stop_process, process)
        client = redis.Redis(host="127.0.0.1", port=port, db=BROKER_DB)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    self.fail("The private redis-server did not start.")
                time.sleep(0.1)
        return f"redis://127.0.0.1:{port}/{BROKER_DB}", "127.0.0.1", port

    def use_broker_in_this_process(self, broker_url):
        """Send tasks to the real broker instead of running them eagerly (restored afterwards)."""
        # Nautobot configures Celery from Django settings (CELERY_ namespace): those keys win over the short names.
        names = ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL", "CELERY_TASK_ALWAYS_EAGER")
        saved = {name: celery_app.conf.get(name) for name in names}

        def reset_pools():
            for owner, attribute in ((celery_app, "_pool"), (celery_app.amqp, "_producer_pool")):
                pool = getattr(owner, attribute, None)
                if pool is not None:
                    pool.force_close_all()
                setattr(owner, attribute, None)

        def restore():
            reset_pools()
            celery_app.conf.update(saved)
            cache.delete(construct_cache_key(get_celery_queues, branch_aware=False))

        reset_pools()
        celery_app.conf.update(dict(zip(names, (broker_url, broker_url, broker_url, False), strict=True)))
        self.assertFalse(celery_app.conf.task_always_eager)
        self.assertEqual(celery_app.connection_for_write().as_uri(include_password=True), broker_url)
        self.addCleanup(restore)

    def start_worker(self, redis_host, redis_port):
        """Start the worker on this session's test database and wait until it answers on the default queue."""
        env = {key: value for key, value in os.environ.items() if key != "NAUTOBOT_TESTING"}
        env.update(
            {
                "NAUTOBOT_DB_NAME": connection.settings_dict["NAME"],
                "NAUTOBOT_CELERY_BROKER_URL": self.broker_url,
                "NAUTOBOT_REDIS_HOST": str(redis_host),
                "NAUTOBOT_REDIS_PORT": str(redis_port),
                "NAUTOBOT_REDIS_DB_CACHE": str(WORKER_CACHE_DB),
                "NAUTOBOT_DEBUG": "false",
                "NAUTOBOT_CELERY_WORKER_REDIRECT_STDOUTS": "false",
            }
        )
        self.worker_log = self.log_dir / "worker.log"
        log_handle = self.worker_log.open("wb")
        self.addCleanup(log_handle.close)
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        self.worker_name = f"{PREFIX}{uuid.uuid4().hex[:8]}@localhost"
        process = subprocess.Popen(  # noqa: S603
            [str(NAUTOBOT_SERVER), "--config", str(CONFIG), "celery", "worker", "--pool", "solo",
             "--concurrency", "1", "--queues", queue, "--hostname", self.worker_name,
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.addCleanup(stop_process, process)
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while True:
            cache.delete(construct_cache_key(get_celery_queues, branch_aware=False))
            if get_worker_count(queue=queue) > 0:
                return
            if process.poll() is not None or time.monotonic() > deadline:
                self.fail(f"The Celery worker did not come up:\n{self.worker_log_tail()}")
            time.sleep(0.5)

    def worker_log_tail(self, lines=60):
        """The end of the worker's log, for failure messages."""
        try:
            return "\n".join(self.worker_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no worker log)"

    # -- data ------------------------------------------------------------------------------------------------------

    def create_data(self):
        """Committed contracts, a rate and cost history; worked figures are in the assertions below."""
        t = self.today
        day = datetime.timedelta(days=1)
        self.acme = factories.ServiceProviderFactory(name=f"{PREFIX}Acme")
        self.globex = factories.ServiceProviderFactory(name=f"{PREFIX}Globex")
        self.initech = factories.ServiceProviderFactory(name=f"{PREFIX}Initech")
        common = {"start_date": t - relativedelta(years=1), "status": factories.status_for(Contract, "Active")}
        # USD 1000/month, notice 30, term ends in 20 days: its notice deadline passed 10 days ago (missed).
        acme_missed = factories.ContractFactory(
            name=f"{PREFIX}acme-missed", provider=self.acme, currency="USD", recurring_cost=Decimal("1000.00"),
            end_date=t + day * 20, notice_period_days=30, **common,
        )  # fmt: skip
        # Open, due 40 days ago: an urgent overdue-invoice alert (more than 30 days overdue).
        factories.InvoiceFactory(
            contract=acme_missed, invoice_number=f"{PREFIX}INV-1", invoice_date=t - day * 70, due_date=t - day * 40,
            period_start=t - day * 100, period_end=t - day * 71,
        )  # fmt: skip
        # EUR 300/quarter = 100/month, auto-renews, deadline in 25 days: urgent (within 2 x 14).
        factories.ContractFactory(
            name=f"{PREFIX}globex-urgent", provider=self.globex, currency="EUR", recurring_cost=Decimal("300.00"),
            billing_period=Period.PERIOD_QUARTERLY, auto_renew=True, end_date=t + day * 25, **common,
        )  # fmt: skip
        # GBP 1200/year = 100/month, term ends in 100 days: outside the window and the 90-day forecast.
        factories.ContractFactory(
            name=f"{PREFIX}initech-later", provider=self.initech, currency="GBP", recurring_cost=Decimal("1200.00"),
            billing_period=Period.PERIOD_ANNUAL, end_date=t + day * 100, **common,
        )  # fmt: skip
        factories.ContractFactory(
            name=f"{PREFIX}acme-pending", provider=self.acme, currency="USD", recurring_cost=Decimal("999.00"),
            end_date=t + day * 20, start_date=t - day * 10, status=factories.status_for(Contract, "Pending"),
        )  # fmt: skip
        factories.ExchangeRateFactory(
            currency="EUR", rate=Decimal("1.25"), effective_date=t - day * 10, description=PREFIX
        )
        history = (("USD", "500.00", "12000.00"), ("EUR", "100.00", "1200.00"), ("JPY", "50.00", "0.00"))
        for currency, burn, renewal in history:
            factories.CostSnapshotFactory(
                snapshot_date=self.snapshot_dates[1],
                currency=currency,
                monthly_burn=Decimal(burn),
                renewal_90d=Decimal(renewal),
            )

        self.user = User.objects.create_user(username=f"{PREFIX}{uuid.uuid4().hex[:8]}", is_superuser=False)
        for app_label, model in (
            ("extras", "job"), ("extras", "jobresult"), ("extras", "joblogentry"), ("extras", "fileproxy"),
            ("nautobot_contracts", "contract"), ("nautobot_contracts", "contractassignment"),
            ("nautobot_contracts", "serviceprovider"), ("nautobot_contracts", "exchangerate"),
            ("nautobot_contracts", "costsnapshot"), ("nautobot_contracts", "invoice"), ("dcim", "device"),
        ):  # fmt: skip
            actions = ["view", "run"] if model == "job" else ["view"]
            permission = ObjectPermission.objects.create(name=f"{self.user.username} {model}", actions=actions)
            permission.users.add(self.user)
            permission.object_types.add(ContentType.objects.get(app_label=app_label, model=model))
        self.token = Token.objects.create(user=self.user)

    def remove_leftovers(self, earlier_runs=False):
        """Delete everything this test creates; first also what an interrupted earlier run may have left."""
        users = User.objects.filter(username__startswith=PREFIX)
        results = JobResult.objects.filter(user__in=users)
        for file_proxy in FileProxy.objects.filter(job_result__in=results):
            file_proxy.delete()  # one by one, so the stored file goes too
        results.delete()
        ObjectChange.objects.filter(user__in=users).delete()
        ObjectPermission.objects.filter(name__startswith=PREFIX).delete()
        users.delete()
        # Alerts the Jobs raised for this test's contracts, invoices and cost history (committed like the rest).
        ContractAlert.objects.filter(
            Q(contract__name__startswith=PREFIX) | Q(invoice__invoice_number__startswith=PREFIX)
        ).delete()
        anomaly_alerts = ContractAlert.objects.filter(kind="cost_anomaly")
        if not earlier_runs:
            anomaly_alerts = anomaly_alerts.filter(occasion__in=self.snapshot_dates)
        anomaly_alerts.delete()
        Invoice.objects.filter(invoice_number__startswith=PREFIX).delete()
        Contract.objects.filter(name__startswith=PREFIX).delete()
        ServiceProvider.objects.filter(name__startswith=PREFIX).delete()
        ExchangeRate.objects.filter(description=PREFIX).delete()
        if earlier_runs:
            # Only this test commits cost history to the test database (every other test rolls back), so any row
            # here is an interrupted run's, and would skew the history other tests build.
            CostSnapshot.objects.all().delete()
        else:
            CostSnapshot.objects.filter(snapshot_date__in=self.snapshot_dates).delete()

    def enable_jobs(self):
        """Enable the four Job records (restored afterwards), as an administrator would."""
        jobs = Job.objects.filter(module_name__startswith="nautobot_contracts.jobs.", job_class_name__in=JOB_NAMES)
        self.assertEqual(sorted(jobs.values_list("name", flat=True)), sorted(JOB_NAMES.values()))
        was_enabled = dict(jobs.values_list("pk", "enabled"))
        jobs.update(enabled=True)

        def restore():
            for pk, enabled in was_enabled.items():
                Job.objects.filter(pk=pk).update(enabled=enabled)

        self.addCleanup(restore)

    # -- REST ------------------------------------------------------------------------------------------------------

    def api_client(self):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.token.key}", HTTP_ACCEPT="application/json")
        return client

    def run_url(self, job_name):
        return f"/api/extras/jobs/{urllib.parse.quote(job_name)}/run/"

    def run_job(self, job_name, data):
        """POST the run request and poll the JobResult until it is done; return (result JSON, log entries JSON)."""
        response = self.client.post(self.run_url(job_name), {"data": data}, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        job_result_id = response.json()["job_result"]["id"]
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            job_result = self.client.get(f"/api/extras/job-results/{job_result_id}/").json()
            status = job_result["status"]["value"]
            if status in states.READY_STATES:
                break
            if time.monotonic() > deadline:
                self.fail(f"{job_name} still {status} after {JOB_TIMEOUT}s:\n{self.worker_log_tail()}")
            time.sleep(0.25)
        self.assertEqual(status, states.SUCCESS, f"{job_result.get('traceback')}\n{self.worker_log_tail()}")
        self.assertEqual(job_result["worker"], self.worker_name, self.worker_log_tail())  # the subprocess ran it
        logs = self.client.get(f"/api/extras/job-results/{job_result_id}/logs/").json()
        return job_result, [entry for entry in logs if entry["grouping"] not in ("initialization", "post_run")]

    def download_csv(self, job_result):
        """The one attached CSV file's text, through the file-proxies download endpoint."""
        files = self.client.get("/api/extras/file-proxies/", {"job_result_id": job_result["id"]}).json()["results"]
        self.assertEqual(len(files), 1)
        file_id = files[0]["id"]
        response = self.client.get(f"/api/extras/file-proxies/{file_id}/download/")
        self.assertEqual(response.status_code, 200)
        return b"".join(response.streaming_content if response.streaming else [response.content]).decode()

    # -- the test --------------------------------------------------------------------------------------------------

    def test_jobs_over_rest(self):
        t = self.today.isoformat()
        in_20, in_25, ago_10 = ((self.today + datetime.timedelta(days=d)).isoformat() for d in (20, 25, -10))

        job_result, logs = self.run_job("Check upcoming renewals", {})
        result = job_result["result"]
        # The worker's today (the job has no date input); it can be tomorrow if the run straddles midnight.
        ran_on = datetime.date.fromisoformat(result["as_of"])
        self.assertIn((ran_on - self.today).days, (0, 1))
        self.assertEqual(result["window_days"], 90)
        to_deadline = {name: (datetime.date.fromisoformat(date) - ran_on).days for name, date in
                       (("acme", ago_10), ("globex", in_25))}  # fmt: skip
        self.assertEqual(result["counts"], {"missed": 1, "urgent": 1, "soon": 0, "upcoming": 0})
        rows = [(r["name"], r["tier"], r["term_end"], r["notice_deadline"], r["days_to_deadline"], r["auto_renew"],
                 r["currency"], r["renewal_value"]) for r in result["contracts"]]  # fmt: skip
        self.assertEqual(
            rows,
            [
                (f"{PREFIX}acme-missed", "missed", in_20, ago_10, to_deadline["acme"], False, "USD", "12000.00"),
                (f"{PREFIX}globex-urgent", "urgent", in_25, in_25, to_deadline["globex"], True, "EUR", "1200.00"),
            ],
        )
        warnings = [entry["log_object"] for entry in logs if entry["log_level"] == "warning"]
        self.assertEqual(warnings, [f"{PREFIX}acme-missed", f"{PREFIX}globex-urgent"])
        self.assertIn(f"{PREFIX}globex-urgent", self.download_csv(job_result))
        # Renewal alerts within the default 90-day lead time: acme (missed) and globex (urgent); initech's deadline is
        # 100 days away. A re-run for the same day changes nothing.
        self.assertEqual(result["alerts"], {"created": 2, "updated": 0, "resolved": 0})
        stored = ContractAlert.objects.filter(kind="renewal_notice", contract__name__startswith=PREFIX)
        self.assertEqual(
            sorted(stored.values_list("contract__name", "severity", "state")),
            [(f"{PREFIX}acme-missed", "missed", "open"), (f"{PREFIX}globex-urgent", "urgent", "open")],
        )
        job_result, _ = self.run_job("Check upcoming renewals", {"as_of": ran_on.isoformat()})
        self.assertEqual(job_result["result"]["alerts"], {"created": 0, "updated": 0, "resolved": 0})

        job_result, _ = self.run_job("Check overdue invoices", {"as_of": t})
        self.assertEqual(job_result["result"], {"as_of": t, "alerts": {"created": 1, "updated": 0, "resolved": 0}})
        overdue = ContractAlert.objects.get(kind="invoice_overdue", invoice__invoice_number=f"{PREFIX}INV-1")
        self.assertEqual((overdue.severity, overdue.due_date), ("urgent", self.today - datetime.timedelta(days=40)))

        job_result, logs = self.run_job("Monthly cost report", {"as_of": t})
        self.assertEqual(
            job_result["result"],
            {
                "as_of": t,
                "reporting_currency": "USD",
                "per_currency": {
                    "EUR": {"monthly_burn": "100.00", "annualized": "1200.00", "renewal_forecast": "1200.00",
                            "active_contracts": 1},
                    "GBP": {"monthly_burn": "100.00", "annualized": "1200.00", "renewal_forecast": "0.00",
                            "active_contracts": 1},
                    "USD": {"monthly_burn": "1000.00", "annualized": "12000.00", "renewal_forecast": "12000.00",
                            "active_contracts": 1},
                },
                "total_monthly_burn": "1125.00",  # 1000 USD + 100 EUR x 1.25; GBP has no rate
                "unconverted": ["GBP"],
                "top_vendors": [
                    {"provider": f"{PREFIX}Globex", "currency": "EUR", "monthly_burn": "100.00"},
                    {"provider": f"{PREFIX}Initech", "currency": "GBP", "monthly_burn": "100.00"},
                    {"provider": f"{PREFIX}Acme", "currency": "USD", "monthly_burn": "1000.00"},
                ],
                "coverage_gap_count": Device.objects.count(),  # nothing is assigned: every device is a gap
            },
        )  # fmt: skip
        self.assertEqual([entry["log_level"] for entry in logs].count("warning"), 1)  # GBP not converted
        self.assertTrue(self.download_csv(job_result).startswith("currency,monthly_burn,"))

        job_result, _ = self.run_job("Capture cost history snapshot", {"as_of": t})
        snapshot = {row["currency"]: (row["monthly_burn"], row["renewal_90d"], row["active_contract_count"])
                    for row in job_result["result"]["rows"]}  # fmt: skip
        expected = {"EUR": ("100.00", "1200.00", 1), "GBP": ("100.00", "0.00", 1), "JPY": ("0.00", "0.00", 0),
                    "USD": ("1000.00", "12000.00", 1)}  # fmt: skip
        self.assertEqual(snapshot, expected)
        # Run again: the same rows are updated, not duplicated.
        self.run_job("Capture cost history snapshot", {"as_of": t})
        self.assertEqual(CostSnapshot.objects.filter(snapshot_date=self.today).count(), 4)

        job_result, logs = self.run_job("Detect cost anomalies", {"threshold_pct": 20, "lookback_days": 28})
        anomalies = job_result["result"]["anomalies"]
        found = [(a["kind"], a["currency"], a["metric"], a["pct_change"]) for a in anomalies]
        self.assertEqual(
            found,
            [("new", "GBP", "monthly_burn", None), ("fall", "JPY", "monthly_burn", "-100.00"),
             ("rise", "USD", "monthly_burn", "100.00")],
        )  # fmt: skip
        self.assertEqual(job_result["result"]["currencies_checked"], ["EUR", "GBP", "JPY", "USD"])
        # The JPY fall and the USD rise (both 100%, at least twice the threshold: urgent); "new" raises none.
        self.assertEqual(job_result["result"]["alerts"], {"created": 2, "updated": 0, "resolved": 0})
        self.assertEqual([entry["log_level"] for entry in logs].count("warning"), 3)

        # Bad inputs: a form error (400) and no JobResult.
        before = JobResult.objects.count()
        for job_name, data, field in (
            ("Check upcoming renewals", {"window_days": -1}, "window_days"),
            ("Monthly cost report", {"as_of": "2026-02-30"}, "as_of"),
            ("Capture cost history snapshot", {"as_of": "not a date"}, "as_of"),
            ("Detect cost anomalies", {"threshold_pct": 0}, "threshold_pct"),
            ("Check overdue invoices", {"as_of": "yesterday"}, "as_of"),
        ):
            response = self.client.post(self.run_url(job_name), {"data": data}, format="json")
            self.assertEqual(response.status_code, 400, response.content)
            self.assertIn(field, response.json()["errors"])
        self.assertEqual(JobResult.objects.count(), before)
