"""The benchmark's data-set builder and measurements, at a tiny scale, so development/benchmark.py cannot rot."""

import importlib.util
from pathlib import Path
from unittest import mock

from django.contrib.auth import get_user_model
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device

from nautobot_contracts.models import Contract, ContractAssignment, Invoice

SCALE = 0.0002
PREFIX = "tb"


def load_benchmark():
    """Import development/benchmark.py (not a package) by path."""
    path = Path(__file__).resolve().parent.parent / "development" / "benchmark.py"
    spec = importlib.util.spec_from_file_location("nautobot_contracts_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCHMARK = load_benchmark()


class BenchmarkTest(TestCase):
    """Build the data set at a tiny scale and run every measurement on it."""

    databases = ("default", "job_logs")  # the measurements count queries on every connection

    @classmethod
    def setUpTestData(cls):
        cls.counts = BENCHMARK.build_dataset(SCALE, prefix=PREFIX)

    def test_plan_scales(self):
        full = BENCHMARK.plan(1.0)
        self.assertEqual(
            (full["devices"], full["sites"], full["contracts"], full["assignments"], full["invoices"]),
            (100_000, 1000, 20_000, 60_000, 200_000),
        )
        self.assertEqual(BENCHMARK.plan(0.01)["devices"], 1000)

    def test_dataset(self):
        planned = BENCHMARK.plan(SCALE)
        self.assertEqual(Device.objects.filter(name__startswith=f"{PREFIX}-dev-").count(), planned["devices"])
        self.assertEqual(Contract.objects.filter(name__startswith=f"{PREFIX}-contract-").count(), planned["contracts"])
        self.assertEqual(Invoice.objects.count(), planned["invoices"])
        # A repeated (contract, object) pair is planned away: rarely at small scales, never at full scale.
        self.assertEqual(ContractAssignment.objects.count(), len(BENCHMARK.assignment_plan(planned)))
        self.assertGreater(self.counts["assignments"], 0.9 * planned["assignments"])
        self.assertEqual(len(BENCHMARK.assignment_plan(BENCHMARK.plan(1.0))), 60_000)
        self.assertEqual(set(Contract.objects.values_list("currency", flat=True)), {"USD", "EUR", "GBP"})

    def test_measurements(self):
        user = get_user_model().objects.create(username="bench-user", is_superuser=True)
        # Job logs go through the test's connection (see tests/test_jobs_coverage.py).
        with mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None):
            results = BENCHMARK.run_measurements(user)
        table = BENCHMARK.format_table(results)
        by_label = {measure.label: measure for measure in results}
        self.assertEqual(len(results), 11, table)
        for label in list(by_label)[:5]:
            self.assertIsNotNone(by_label[label].seconds, table)
            self.assertGreater(by_label[label].queries, 0, table)
            self.assertNotIn("status", by_label[label].note, table)
        self.assertIn("HTTP 200", by_label["REST list: 1,000 contracts"].note)
        self.assertIn("uncovered in CSV", by_label["Coverage Job end to end (CSV included)"].note)
