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
        self.assertEqual(len(results), 18, table)
        for label in list(by_label)[:7]:
            self.assertIsNotNone(by_label[label].seconds, table)
            self.assertGreater(by_label[label].queries, 0, table)
            self.assertIsNotNone(by_label[label].rows, table)
            self.assertNotIn("status", by_label[label].note, table)
        self.assertEqual(by_label["Coverage floor: one anti-join statement (uncovered count)"].queries, 1, table)
        scan = by_label["Coverage scan (covered + uncovered counts)"]
        self.assertEqual(scan.queries, 1, table)
        self.assertEqual(scan.rows, Device.objects.count(), table)
        # The hand-written floor and the service layer agree on the uncovered count.
        self.assertNotIn("MISMATCH", scan.note, table)
        self.assertEqual(
            by_label["Coverage floor: one anti-join statement (uncovered count)"].rows,
            by_label["Coverage Job end to end (CSV included)"].rows,
            table,
        )
        for label in ("contracts", "assignments", "invoices"):
            measure = by_label[f"REST list: 1,000 {label}"]
            self.assertIn("HTTP 200", measure.note, table)
        self.assertEqual(by_label["REST list: 1,000 contracts"].rows, Contract.objects.count(), table)
        panel = by_label["Contracts panel of one device (render)"]
        self.assertTrue(1 <= panel.rows <= 25, table)
        self.assertIn(f"{panel.rows} of ", panel.note, table)
        self.assertIn("HTTP 200", by_label["Dashboard (server time)"].note)
        self.assertGreater(by_label["Dashboard (server time)"].queries, 0, table)
        self.assertIn("uncovered in CSV", by_label["Coverage Job end to end (CSV included)"].note)
        # The renewals Job with alerts: the first run creates them, the re-run changes nothing, in bulk both times.
        first = by_label["Job: Check upcoming renewals (with alerts, first run)"]
        rerun = by_label["Job: Check upcoming renewals (with alerts, re-run)"]
        self.assertIn("'created': 0, 'updated': 0, 'resolved': 0", rerun.note, table)
        self.assertNotIn("'created': 0,", first.note, table)
        self.assertLessEqual(first.queries - rerun.queries, 10, table)  # bulk writes: no query per alert

        # Cost allocation by location: the service and the REST endpoint give the same rows, in a few queries.
        service = by_label["Cost allocation by location (service)"]
        rest = by_label["REST: cost allocation by location"]
        self.assertGreater(service.rows, 0, table)
        self.assertEqual(rest.rows, service.rows, table)
        self.assertIn("HTTP 200", rest.note, table)
        self.assertLessEqual(service.queries, 4, table)

        header = table.splitlines()[0].split()
        self.assertEqual(header[:6], ["Measurement", "Seconds", "Queries", "Rows", "ms/row", "Notes"])

    def test_median_results(self):
        runs = []
        for seconds in (3.0, 1.0, 2.0):
            measure = BENCHMARK.Measure("x")
            measure.seconds, measure.queries, measure.rows = seconds, 4, 10
            runs.append([measure])
        (median,) = BENCHMARK.median_results(runs)
        self.assertEqual((median.seconds, median.queries, median.rows), (2.0, 4, 10))
        self.assertIn("median of 3 (min 1.000)", median.note)
