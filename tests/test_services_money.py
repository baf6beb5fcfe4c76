"""Money over many contracts (services.money), exchange rates (services.fx), snapshots and anomalies."""

import datetime
from decimal import Decimal
import threading
import time

from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase

from nautobot_contracts.choices import BillingPeriodChoices as Period
from nautobot_contracts.models import Contract, CostSnapshot
from nautobot_contracts.services import anomalies, fx, money, snapshots
from nautobot_contracts.services.money import money_str
from tests import factories

D = datetime.date
AS_OF = D(2026, 3, 1)  # + 90 days = 2026-05-30


def make_contract(name, provider, currency, recurring, period, end, status="Active", **kwargs):
    """A saved contract started 2025-01-01."""
    return factories.ContractFactory(
        name=name,
        provider=provider,
        currency=currency,
        recurring_cost=Decimal(recurring),
        billing_period=period,
        start_date=kwargs.pop("start_date", D(2025, 1, 1)),
        end_date=end,
        status=factories.status_for(Contract, status),
        **kwargs,
    )


def build_dataset(cls):
    """Three currencies, every billing period, auto-renew and not, statuses that never count. Worked totals:

    USD burn 1000 + 100 + 100 + 0 = 1200, forecast (term end in [Mar 1, May 30]) 100x12 + 100x12 = 2400, 4 active.
    EUR burn 100 + 50 = 150, forecast 100x6 + 50x1 = 650, 2 active. GBP burn 3 x 100/3 = 100.00, forecast 0, 3 active.
    """
    cls.acme = factories.ServiceProviderFactory(name="Acme")
    cls.globex = factories.ServiceProviderFactory(name="Globex")
    cls.initech = factories.ServiceProviderFactory(name="Initech")
    make_contract("u-monthly", cls.acme, "USD", "1000.00", Period.PERIOD_MONTHLY, D(2026, 12, 31))
    make_contract("u-quarterly", cls.acme, "USD", "300.00", Period.PERIOD_QUARTERLY, D(2026, 4, 30))
    # Ended 2025-03-31, auto-renews yearly: current term end 2026-03-31, inside the forecast window.
    make_contract("u-annual-auto", cls.globex, "USD", "1200.00", Period.PERIOD_ANNUAL, D(2025, 3, 31), auto_renew=True)
    make_contract("u-one-time", cls.acme, "USD", "500.00", Period.PERIOD_ONE_TIME, D(2026, 3, 15))
    make_contract("u-pending", cls.acme, "USD", "999.00", Period.PERIOD_MONTHLY, D(2026, 12, 31), status="Pending")
    make_contract("u-cancelled", cls.acme, "USD", "999.00", Period.PERIOD_MONTHLY, D(2026, 4, 1), status="Cancelled")
    make_contract("u-expired", cls.acme, "USD", "999.00", Period.PERIOD_MONTHLY, D(2026, 4, 1), status="Expired")
    make_contract("u-ended", cls.acme, "USD", "999.00", Period.PERIOD_MONTHLY, D(2026, 2, 28))
    make_contract(
        "u-not-started", cls.acme, "USD", "999.00", Period.PERIOD_MONTHLY, D(2027, 1, 1), start_date=D(2026, 4, 1)
    )
    # Forecast window edges are inclusive: term end on the last day (May 30) and on the first (Mar 1).
    make_contract(
        "e-semiannual", cls.initech, "EUR", "600.00", Period.PERIOD_SEMIANNUAL, D(2026, 5, 30), renewal_term_months=6
    )
    make_contract("e-monthly", cls.initech, "EUR", "50.00", Period.PERIOD_MONTHLY, D(2026, 3, 1), renewal_term_months=1)
    make_contract("e-outside", cls.initech, "EUR", "0.00", Period.PERIOD_MONTHLY, D(2026, 5, 31))
    for index in range(3):
        make_contract(f"g-quarterly-{index}", cls.globex, "GBP", "100.00", Period.PERIOD_QUARTERLY, D(2027, 1, 1))


class CurrencyTotalsTest(TestCase):
    """Monthly burn, annualized, renewal forecast and active counts per currency."""

    @classmethod
    def setUpTestData(cls):
        build_dataset(cls)

    def figures(self, **kwargs):
        return {
            code: (
                money_str(t.monthly_burn),
                money_str(t.annualized),
                money_str(t.renewal_forecast),
                t.active_contracts,
            )
            for code, t in money.currency_totals(AS_OF, **kwargs).items()
        }

    def test_worked_totals(self):
        self.assertEqual(
            self.figures(),
            {
                "USD": ("1200.00", "14400.00", "2400.00", 4),
                "EUR": ("150.00", "1800.00", "650.00", 3),
                "GBP": ("100.00", "1200.00", "0.00", 3),
            },
        )

    def test_intermediate_sums_unrounded(self):
        # Three thirds of 100: 100.00, not 3 x 33.33 = 99.99.
        burn = money.currency_totals(AS_OF)["GBP"].monthly_burn
        self.assertEqual(money_str(burn), "100.00")
        self.assertNotEqual(burn, Decimal("99.99"))

    def test_half_cent_rounds_up(self):
        make_contract("tiny", self.acme, "CHF", "0.06", Period.PERIOD_ANNUAL, D(2026, 12, 31))  # 0.005 a month
        self.assertEqual(money_str(money.currency_totals(AS_OF)["CHF"].monthly_burn), "0.01")

    def test_forecast_horizon(self):
        self.assertEqual(money.renewal_forecast_by_currency(AS_OF, 0), {"USD": 0, "EUR": 50, "GBP": 0})
        # 60 days (to Apr 30): USD quarterly (Apr 30) and annual-auto (Mar 31); EUR only the Mar 1 one.
        forecast = money.renewal_forecast_by_currency(AS_OF, 60)
        self.assertEqual(money_str(forecast["USD"]), "2400.00")
        self.assertEqual(money_str(forecast["EUR"]), "50.00")
        self.assertEqual(money_str(money.renewal_forecast_by_currency(AS_OF, 91)["EUR"]), "650.00")
        with self.assertRaises(ValueError):
            money.currency_totals(AS_OF, -1)

    def test_other_dates(self):
        # 2027-03-01: only the auto-renewing USD contract is still active (term end 2027-03-31).
        self.assertEqual(
            {code: money_str(burn) for code, burn in money.monthly_burn_by_currency(D(2027, 3, 1)).items()},
            {"USD": "100.00"},
        )

    def test_restricted_to_user(self):
        self.add_permissions("nautobot_contracts.view_contract", constraints={"provider__name": "Acme"})
        self.assertEqual(self.figures(user=self.user), {"USD": ("1100.00", "13200.00", "1200.00", 3)})

    def test_no_permission_sees_nothing(self):
        self.assertEqual(self.figures(user=self.user), {})

    def test_top_vendors(self):
        vendors = [(v["currency"], v["provider"], money_str(v["monthly_burn"])) for v in money.top_vendors(AS_OF)]
        self.assertEqual(
            vendors,
            [
                ("EUR", "Initech", "150.00"),
                ("GBP", "Globex", "100.00"),
                ("USD", "Acme", "1100.00"),
                ("USD", "Globex", "100.00"),
            ],
        )
        self.assertEqual([v["provider"] for v in money.top_vendors(AS_OF, limit=1) if v["currency"] == "USD"], ["Acme"])

    def test_query_counts_do_not_grow(self):
        def count():
            with CaptureQueriesContext(connection) as queries:
                money.currency_totals(AS_OF)
                money.top_vendors(AS_OF)
                fx.convert({"USD": 1, "EUR": 1, "GBP": 1}, AS_OF)
            return len(queries)

        before = count()
        for index in range(30):
            currency = ("USD", "EUR", "JPY")[index % 3]
            make_contract(f"more-{index}", self.globex, currency, "10.00", Period.PERIOD_MONTHLY, D(2026, 12, 31))
        self.assertEqual(before, 3)
        self.assertEqual(count(), 3)


class ExchangeRateTest(TestCase):
    """Latest rate on or before the date; reporting currency at 1; no rate means unconverted."""

    @classmethod
    def setUpTestData(cls):
        for currency, rate, effective in (
            ("EUR", "1.10", D(2026, 1, 1)),
            ("EUR", "1.20", D(2026, 2, 15)),
            ("EUR", "2.00", D(2026, 3, 2)),  # not yet effective on AS_OF
            ("USD", "5.00", D(2026, 1, 1)),  # ignored while USD is the reporting currency
            ("JPY", "0.0066", D(2026, 3, 1)),  # effective on AS_OF itself
        ):
            factories.ExchangeRateFactory(currency=currency, rate=Decimal(rate), effective_date=effective)

    def test_latest_on_or_before(self):
        with CaptureQueriesContext(connection) as queries:
            rates = fx.rates_on(AS_OF)
        self.assertEqual(len(queries), 1)
        self.assertEqual(rates, {"USD": Decimal("1"), "EUR": Decimal("1.20"), "JPY": Decimal("0.0066")})
        self.assertEqual(fx.rates_on(D(2026, 2, 14))["EUR"], Decimal("1.10"))
        self.assertEqual(fx.rates_on(D(2026, 3, 2))["EUR"], Decimal("2.00"))
        self.assertNotIn("EUR", fx.rates_on(D(2025, 12, 31)))

    def test_convert(self):
        conversion = fx.convert({"USD": Decimal("1200"), "EUR": Decimal("150"), "GBP": Decimal("100")}, AS_OF)
        self.assertEqual(conversion.currency, "USD")
        self.assertEqual(conversion.total, Decimal("1380.00"))  # 1200 + 150 x 1.20; GBP is not counted 1:1
        self.assertEqual(conversion.unconverted, ["GBP"])
        self.assertEqual(conversion.rates, {"USD": 1, "EUR": Decimal("1.20")})

    def test_convert_before_any_rate(self):
        conversion = fx.convert({"USD": Decimal("10"), "EUR": Decimal("150")}, D(2025, 6, 1))
        self.assertEqual((conversion.total, conversion.unconverted), (Decimal("10"), ["EUR"]))

    def test_unrounded_until_shown(self):
        conversion = fx.convert({"JPY": Decimal("1000.5")}, AS_OF)
        self.assertEqual(conversion.total, Decimal("6.60330"))
        self.assertEqual(money_str(conversion.total), "6.60")

    def test_reporting_currency_setting(self):
        with override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"reporting_currency": "eur"}}):
            conversion = fx.convert({"USD": Decimal("10"), "EUR": Decimal("3"), "GBP": Decimal("1")}, AS_OF)
        self.assertEqual(conversion.currency, "EUR")
        self.assertEqual(conversion.total, Decimal("53.00"))  # 10 x 5.00 + 3 x 1
        self.assertEqual(conversion.unconverted, ["GBP"])

    def test_restricted_rates(self):
        self.add_permissions("nautobot_contracts.view_exchangerate", constraints={"currency": "JPY"})
        self.assertEqual(fx.rates_on(AS_OF, user=self.user), {"USD": 1, "JPY": Decimal("0.0066")})


class SnapshotTest(TestCase):
    """snapshot_rows / write_snapshot: one row per (date, currency), zero rows for dropped currencies, upsert."""

    @classmethod
    def setUpTestData(cls):
        build_dataset(cls)

    def stored(self, as_of=AS_OF):
        return {
            row.currency: (money_str(row.monthly_burn), money_str(row.renewal_90d), row.active_contract_count)
            for row in CostSnapshot.objects.filter(snapshot_date=as_of)
        }

    def test_rows(self):
        rows = snapshots.snapshot_rows(AS_OF, coverage_gap_count=7)
        self.assertEqual([row.currency for row in rows], ["EUR", "GBP", "USD"])
        self.assertTrue(all(row.coverage_gap_count == 7 and row.snapshot_date == AS_OF for row in rows))
        snapshots.write_snapshot(rows)
        self.assertEqual(
            self.stored(),
            {"USD": ("1200.00", "2400.00", 4), "EUR": ("150.00", "650.00", 3), "GBP": ("100.00", "0.00", 3)},
        )

    def test_rerun_updates_in_place(self):
        existing = CostSnapshot.objects.create(
            snapshot_date=AS_OF, currency="USD", monthly_burn=1, renewal_90d=1, active_contract_count=1
        )
        snapshots.write_snapshot(snapshots.snapshot_rows(AS_OF), today=AS_OF)  # re-running today updates in place
        written = snapshots.write_snapshot(snapshots.snapshot_rows(AS_OF), today=AS_OF).stored
        self.assertEqual(CostSnapshot.objects.filter(snapshot_date=AS_OF).count(), 3)
        usd = CostSnapshot.objects.get(snapshot_date=AS_OF, currency="USD")
        self.assertEqual(usd.pk, existing.pk)
        self.assertEqual(money_str(usd.monthly_burn), "1200.00")
        self.assertEqual({row.pk for row in written}, set(CostSnapshot.objects.values_list("pk", flat=True)))

    def test_zero_rows_for_dropped_currencies(self):
        previous = D(2026, 2, 27)
        factories.CostSnapshotFactory(snapshot_date=D(2026, 2, 1), currency="CAD", monthly_burn=9)  # older: ignored
        factories.CostSnapshotFactory(snapshot_date=previous, currency="JPY", monthly_burn=500)
        factories.CostSnapshotFactory(snapshot_date=previous, currency="AUD", monthly_burn=0, active_contract_count=0)
        # A currency an earlier run recorded for the same day, that has no active contract any more.
        factories.CostSnapshotFactory(snapshot_date=AS_OF, currency="CHF", monthly_burn=40)
        snapshots.write_snapshot(snapshots.snapshot_rows(AS_OF), today=AS_OF)
        stored = self.stored()
        self.assertEqual(stored["JPY"], ("0.00", "0.00", 0))
        self.assertEqual(stored["CHF"], ("0.00", "0.00", 0))
        self.assertNotIn("AUD", stored)
        self.assertNotIn("CAD", stored)
        self.assertEqual(set(stored), {"USD", "EUR", "GBP", "JPY", "CHF"})

    def test_overlapping_runs(self):
        """Two connections upsert the same (date, currency) rows while the first holds its transaction open.

        The overlap is observed, not timed: the second writer's backend is seen waiting for the advisory lock in
        pg_locks while the first is still open, and only then may the first commit.
        """
        day = D(1999, 1, 1)  # far from any other test's data: these rows are really committed
        first_wrote, release_first, second_pid = threading.Event(), threading.Event(), []
        errors, second_done = [], []

        def rows(burn):
            return [
                CostSnapshot(
                    snapshot_date=day, currency=code, monthly_burn=burn, renewal_90d=0, active_contract_count=1
                )
                for code in ("USD", "EUR")
            ]

        def first():
            try:
                with transaction.atomic():
                    snapshots.write_snapshot(rows(Decimal("1.00")), today=day)
                    first_wrote.set()
                    release_first.wait(timeout=30)  # hold the lock until the second writer is seen waiting
            except Exception as error:  # noqa: BLE001  # pylint: disable=broad-exception-caught
                errors.append(error)
            finally:
                first_wrote.set()
                connections.close_all()

        def second():
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    second_pid.append(cursor.fetchone()[0])
                snapshots.write_snapshot(rows(Decimal("2.00")), today=day)
                second_done.append(True)
            except Exception as error:  # noqa: BLE001  # pylint: disable=broad-exception-caught
                errors.append(error)
            finally:
                connections.close_all()

        def cleanup():
            CostSnapshot.objects.filter(snapshot_date=day).delete()
            connections.close_all()

        def second_waits_on_the_lock():
            """Poll pg_locks (a live view, even inside this test's transaction) for the second's ungranted lock."""
            for _ in range(3000):  # a bound on polling, not an assertion on time
                if second_pid:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted",
                            [second_pid[0]],
                        )
                        if cursor.fetchone()[0]:
                            return True
                if second_done or errors:
                    return False
                time.sleep(0.01)
            return False

        writer, waiter = threading.Thread(target=first), threading.Thread(target=second)
        try:
            writer.start()
            self.assertTrue(first_wrote.wait(timeout=30))
            waiter.start()
            observed = second_waits_on_the_lock()
            finished_before_release = bool(second_done)
            release_first.set()
            writer.join(timeout=30)
            waiter.join(timeout=30)
            self.assertEqual(errors, [])
            self.assertTrue(observed, "the second writer was never seen waiting for the advisory lock")
            self.assertFalse(finished_before_release)  # it could not write while the first held the lock
            self.assertEqual(second_done, [True])
            stored = CostSnapshot.objects.filter(snapshot_date=day).order_by("currency")
            self.assertEqual([(row.currency, row.monthly_burn) for row in stored], [("EUR", 2), ("USD", 2)])
        finally:
            release_first.set()
            cleaner = threading.Thread(target=cleanup)
            cleaner.start()
            cleaner.join()


class AnomalyTest(TestCase):
    """detect_anomalies: rises, falls, new, vanished and stale history."""

    @classmethod
    def setUpTestData(cls):
        for day, currency, burn, renewal in (
            (D(2026, 1, 20), "USD", "1000.00", "500.00"),
            (D(2026, 1, 20), "EUR", "100.00", "0.00"),
            (D(2026, 1, 20), "JPY", "300.00", "0.00"),
            (D(2026, 2, 1), "USD", "5000.00", "5000.00"),  # after the baseline cutoff: not compared
            (D(2026, 2, 28), "USD", "1300.00", "400.00"),
            (D(2026, 2, 28), "EUR", "110.00", "50.00"),
            (D(2026, 2, 28), "GBP", "10.00", "0.00"),
        ):
            factories.CostSnapshotFactory(
                snapshot_date=day, currency=currency, monthly_burn=Decimal(burn), renewal_90d=Decimal(renewal)
            )

    def found(self, report):
        return [
            (a.kind, a.currency, a.metric, None if a.pct_change is None else money_str(a.pct_change))
            for a in report.anomalies
        ]

    def test_default_threshold(self):
        # Latest 2026-02-28; cutoff 2026-01-31; baseline 2026-01-20.
        report = anomalies.detect_anomalies(AS_OF, 20, 28)
        self.assertEqual((report.latest_date, report.baseline_date), (D(2026, 2, 28), D(2026, 1, 20)))
        self.assertEqual(report.currencies_checked, ["EUR", "GBP", "JPY", "USD"])
        self.assertEqual(
            self.found(report),
            [
                ("rise", "EUR", "renewal_90d", None),  # from zero to 50
                ("new", "GBP", "monthly_burn", None),
                ("vanished", "JPY", "monthly_burn", None),
                ("rise", "USD", "monthly_burn", "30.00"),  # USD renewal -20.00% is not beyond 20
            ],
        )
        usd = report.anomalies[-1]
        self.assertEqual((usd.baseline, usd.current), (Decimal("1000.00"), Decimal("1300.00")))

    def test_lower_threshold(self):
        found = self.found(anomalies.detect_anomalies(AS_OF, 10, 28))
        self.assertIn(("fall", "USD", "renewal_90d", "-20.00"), found)
        self.assertNotIn("10.00", [pct for *_, pct in found])  # EUR burn +10% is not beyond 10

    def test_stale(self):
        # 2 x 28 = 56 days before 2026-04-25 is 2026-02-28: still fresh; one day later it is stale.
        self.assertNotIn("stale", [a.kind for a in anomalies.detect_anomalies(D(2026, 4, 25), 20, 28).anomalies])
        stale = anomalies.detect_anomalies(D(2026, 4, 26), 20, 28).anomalies[0]
        self.assertEqual((stale.kind, stale.current_date), ("stale", D(2026, 2, 28)))

    def test_no_baseline_yet(self):
        report = anomalies.detect_anomalies(AS_OF, 20, 60)
        self.assertIsNone(report.baseline_date)
        self.assertEqual(
            [(a.kind, a.currency) for a in report.anomalies], [("new", "EUR"), ("new", "GBP"), ("new", "USD")]
        )

    def test_no_history(self):
        CostSnapshot.objects.all().delete()
        report = anomalies.detect_anomalies(AS_OF, 20, 28)
        self.assertEqual(self.found(report), [("stale", None, None, None)])
        self.assertEqual(report.currencies_checked, [])

    def test_restricted_to_user(self):
        report = anomalies.detect_anomalies(AS_OF, 20, 28, user=self.user)  # no permission: no history visible
        self.assertEqual([a.kind for a in report.anomalies], ["stale"])

    def test_bad_inputs(self):
        with self.assertRaises(ValueError):
            anomalies.detect_anomalies(AS_OF, 0, 28)
        with self.assertRaises(ValueError):
            anomalies.detect_anomalies(AS_OF, 20, 0)

    def test_query_count(self):
        with CaptureQueriesContext(connection) as queries:
            anomalies.detect_anomalies(AS_OF, 20, 28)
        for index in range(20):
            factories.CostSnapshotFactory(snapshot_date=D(2025, 1, 1) + datetime.timedelta(days=index))
        with CaptureQueriesContext(connection) as more:
            anomalies.detect_anomalies(AS_OF, 20, 28)
        self.assertEqual(len(queries), 3)
        self.assertEqual(len(more), 3)
