"""Measurement, not a test: time a large contract import through each door. Runs only with CSV_BENCH_ROWS set, e.g.

    CSV_BENCH_ROWS=5000 .venv/bin/pytest -s tests/test_csv_benchmark.py

It prints rows, seconds and queries per door (import_csv itself, the UI import page, REST text/csv, the "Import
contracts CSV" Job); nothing is asserted on time (timings vary with the machine). The UI page hands files over
BACKGROUND_ROWS rows to the Job, so it is measured with the hand-off switched off (the request imports it itself).
"""

import os
import time
import unittest
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.tenancy.models import Tenant

from nautobot_contracts.api.serializers import ContractSerializer
from nautobot_contracts.csv_import import import_csv
from nautobot_contracts.models import Contract, ServiceProvider

ROWS = int(os.environ.get("CSV_BENCH_ROWS", "0") or 0)
HEADER = (
    "provider__name,name,status__name,contract_type,start_date,end_date,recurring_cost,billing_period,currency,"
    "auto_renew,notice_period_days,tenant__name,description\n"
)
PERMISSIONS = (
    "nautobot_contracts.add_contract",
    "nautobot_contracts.view_contract",
    "nautobot_contracts.view_serviceprovider",
    "tenancy.view_tenant",
    "extras.view_status",
)


def contracts_csv(rows, providers=20, tenants=10):
    """A contracts file of `rows` rows over a few providers and tenants (some rows without a tenant)."""
    lines = [
        f"Bench Provider {n % providers},Bench contract {n},Active,support,2026-01-01,2026-12-31,{100 + n % 50}.00,"
        f"monthly,USD,true,30,{'' if n % 3 == 0 else f'Bench Tenant {n % tenants}'},row {n}\n"
        for n in range(rows)
    ]
    return HEADER + "".join(lines)


def fixtures():
    ServiceProvider.objects.bulk_create([ServiceProvider(name=f"Bench Provider {n}") for n in range(20)])
    Tenant.objects.bulk_create([Tenant(name=f"Bench Tenant {n}") for n in range(10)])


def measure(label, call):
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        call()
    elapsed = time.perf_counter() - started
    print(f"\nCSV import [{label}]: {Contract.objects.count()} rows in {elapsed:.2f} s, {len(queries)} queries")


@unittest.skipUnless(ROWS, "set CSV_BENCH_ROWS to measure")
class CSVImportBenchmark(TestCase):
    def test_measure(self):
        fixtures()
        text = contracts_csv(ROWS)
        measure("import_csv", lambda: import_csv(text, ContractSerializer, Contract.objects.all()))
        self.assertEqual(Contract.objects.count(), ROWS)

    def test_measure_ui_page(self):
        fixtures()
        self.add_permissions(*PERMISSIONS)
        text = contracts_csv(ROWS)
        url = reverse("plugins:nautobot_contracts:contract_import")
        with mock.patch("nautobot_contracts.csv_import.hooks.BACKGROUND_ROWS", ROWS + 1):
            measure("UI import page", lambda: self.client.post(url, {"csv_data": text}))
        self.assertEqual(Contract.objects.count(), ROWS)

    def test_measure_job(self):
        fixtures()
        _, job_model = get_job_class_and_model("nautobot_contracts.jobs.imports", "ImportContractsCSV")
        content_type = ContentType.objects.get_for_model(Contract).pk
        with mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None):
            measure(
                "Import contracts CSV Job",
                lambda: run_job_for_testing(
                    job_model, job_kwargs={"content_type": content_type, "csv_data": contracts_csv(ROWS)}
                ),
            )
        self.assertEqual(Contract.objects.count(), ROWS)


@unittest.skipUnless(ROWS, "set CSV_BENCH_ROWS to measure")
class CSVImportRESTBenchmark(APITestCase):
    def test_measure_rest(self):
        fixtures()
        self.add_permissions(*PERMISSIONS)
        text = contracts_csv(ROWS)
        url = reverse("plugins-api:nautobot_contracts-api:contract-list")
        measure(
            "REST text/csv",
            lambda: self.assertHttpStatus(
                self.client.post(url, data=text, content_type="text/csv", **self.header), 201
            ),
        )
        self.assertEqual(Contract.objects.count(), ROWS)
