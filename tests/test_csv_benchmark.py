"""Measurement, not a test: time a large contract import. Runs only with CSV_BENCH_ROWS set, e.g.

    CSV_BENCH_ROWS=5000 .venv/bin/pytest -s tests/test_csv_benchmark.py

It prints rows, seconds and queries; nothing is asserted on time (timings vary with the machine).
"""

import os
import time
import unittest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase
from nautobot.tenancy.models import Tenant

from nautobot_contracts.api.serializers import ContractSerializer
from nautobot_contracts.csv_import import import_csv
from nautobot_contracts.models import Contract, ServiceProvider

ROWS = int(os.environ.get("CSV_BENCH_ROWS", "0") or 0)
HEADER = (
    "provider__name,name,status__name,contract_type,start_date,end_date,recurring_cost,billing_period,currency,"
    "auto_renew,notice_period_days,tenant__name,description\n"
)


def contracts_csv(rows, providers=20, tenants=10):
    """A contracts file of `rows` rows over a few providers and tenants (some rows without a tenant)."""
    lines = [
        f"Bench Provider {n % providers},Bench contract {n},Active,support,2026-01-01,2026-12-31,{100 + n % 50}.00,"
        f"monthly,USD,true,30,{'' if n % 3 == 0 else f'Bench Tenant {n % tenants}'},row {n}\n"
        for n in range(rows)
    ]
    return HEADER + "".join(lines)


@unittest.skipUnless(ROWS, "set CSV_BENCH_ROWS to measure")
class CSVImportBenchmark(TestCase):
    def test_measure(self):
        ServiceProvider.objects.bulk_create([ServiceProvider(name=f"Bench Provider {n}") for n in range(20)])
        Tenant.objects.bulk_create([Tenant(name=f"Bench Tenant {n}") for n in range(10)])
        text = contracts_csv(ROWS)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            created = import_csv(text, ContractSerializer, Contract.objects.all())
        elapsed = time.perf_counter() - started
        print(f"\nCSV import: {len(created)} rows in {elapsed:.2f} s, {len(queries)} queries")
        self.assertEqual(Contract.objects.count(), ROWS)
