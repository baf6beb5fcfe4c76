"""Prometheus gauges: scraped from /metrics with the test client and parsed with prometheus_client's parser."""

import datetime
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase
from prometheus_client.parser import text_string_to_metric_families

from nautobot_contracts import NautobotContractsConfig, metrics
from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.models import Contract, ContractAlert, ContractAssignment
from tests import factories

D = datetime.date
AS_OF = D(2026, 3, 1)


def make_contract(status="Active", **kwargs):
    return factories.ContractFactory(status=factories.status_for(Contract, status), **kwargs)


@override_settings(ROOT_URLCONF="tests.metrics_urls")
@mock.patch("nautobot_contracts.clock.today", return_value=AS_OF)
class MetricsTest(TestCase):
    """The app's samples on /metrics, with hand-worked values for 2026-03-01."""

    @classmethod
    def setUpTestData(cls):
        # No tier: notice deadline 2026-12-31 is 305 days away. Burn 100 USD; no renewal within 90 days.
        cls.anchor = make_contract(name="Anchor", end_date=D(2026, 12, 31))
        # Upcoming: deadline 2026-04-30 (60 days). 300 quarterly = 100/month; renews for 12 months -> 1200 USD.
        make_contract(
            name="Quarterly",
            end_date=D(2026, 4, 30),
            recurring_cost=Decimal("300.00"),
            billing_period=BillingPeriodChoices.PERIOD_QUARTERLY,
        )
        # Urgent: auto-renewing, deadline 2026-03-10 (9 days <= 2 x 14). 1000/year = 83.333.../month -> 83.33 EUR;
        # forecast 83.333... x 12 = 1000.00 EUR.
        make_contract(
            name="Yearly EUR",
            end_date=D(2026, 3, 10),
            auto_renew=True,
            currency="EUR",
            recurring_cost=Decimal("1000.00"),
            billing_period=BillingPeriodChoices.PERIOD_ANNUAL,
        )
        # Missed: 2026-03-20 - 30 days = 2026-02-18 has passed, the term runs. 10 USD/month; forecast 120 USD.
        make_contract(name="Missed", end_date=D(2026, 3, 20), notice_period_days=30, recurring_cost=Decimal("10.00"))
        # Soon: deadline 2026-03-25 (24 days). 50 GBP/month; forecast 600 GBP.
        make_contract(name="Soon GBP", end_date=D(2026, 3, 25), currency="GBP", recurring_cost=Decimal("50.00"))
        # Never counted: pending and cancelled.
        make_contract(name="Pending", status="Pending", end_date=D(2026, 3, 15))
        make_contract(name="Cancelled", status="Cancelled", end_date=D(2026, 3, 15))
        location = factories.make_location("Metrics HQ")
        covered = factories.make_device("covered-1", location=location)
        factories.make_device("bare-1", location=location)
        factories.make_device("bare-2", location=location)
        factories.ContractAssignmentFactory(contract=cls.anchor, assigned_object=covered)

    def setUp(self):
        super().setUp()
        cache.clear()  # this engineer's/CI's private test cache database: no count cached by an earlier test

    def scrape(self):
        """{(sample name, labels as a sorted tuple): value} of the app's samples on /metrics."""
        self.client.logout()  # NAUTOBOT_METRICS_AUTHENTICATED is off by default: Prometheus does not log in
        response = self.client.get("/metrics/")
        self.assertEqual(response.status_code, 200)
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            if family.name.startswith("nautobot_contracts_"):
                self.assertEqual(family.type, "gauge", family.name)
                for sample in family.samples:
                    samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def test_registered_through_the_app_config(self, _today):
        self.assertEqual(NautobotContractsConfig.metrics, "metrics.metrics")
        self.assertEqual(
            metrics.metrics,
            [
                metrics.metric_money,
                metrics.metric_contracts_by_tier,
                metrics.metric_uncovered_devices,
                metrics.metric_open_alerts,
                metrics.metric_tenant_monthly_cost,
            ],
        )

    def test_scrape(self, _today):
        self.assertEqual(
            self.scrape(),
            {
                ("nautobot_contracts_monthly_burn", (("currency", "EUR"),)): 83.33,
                ("nautobot_contracts_monthly_burn", (("currency", "GBP"),)): 50.0,
                ("nautobot_contracts_monthly_burn", (("currency", "USD"),)): 210.0,
                ("nautobot_contracts_renewal_forecast_90d", (("currency", "EUR"),)): 1000.0,
                ("nautobot_contracts_renewal_forecast_90d", (("currency", "GBP"),)): 600.0,
                ("nautobot_contracts_renewal_forecast_90d", (("currency", "USD"),)): 1320.0,
                ("nautobot_contracts_contracts", (("tier", "missed"),)): 1.0,
                ("nautobot_contracts_contracts", (("tier", "urgent"),)): 1.0,
                ("nautobot_contracts_contracts", (("tier", "soon"),)): 1.0,
                ("nautobot_contracts_contracts", (("tier", "upcoming"),)): 1.0,
                ("nautobot_contracts_contracts", (("tier", "none"),)): 1.0,
                ("nautobot_contracts_uncovered_devices", ()): 2.0,
                ("nautobot_contracts_open_alerts", (("severity", "upcoming"),)): 0.0,
                ("nautobot_contracts_open_alerts", (("severity", "soon"),)): 0.0,
                ("nautobot_contracts_open_alerts", (("severity", "urgent"),)): 0.0,
                ("nautobot_contracts_open_alerts", (("severity", "missed"),)): 0.0,
                # Anchor's 100 USD is allocated to a device with no tenant.
                (
                    "nautobot_contracts_tenant_monthly_cost",
                    (("currency", "USD"), ("tenant", ""), ("tenant_group", "")),
                ): 100.0,
            },
        )

    def test_tenant_monthly_cost(self, _today):
        group = factories.make_tenant_group("Metrics group")
        tenant = factories.make_tenant("Metrics tenant", group=group)
        # 83.333... EUR a month, split 2:1 between the tenant and its group (kept at group level).
        yearly = Contract.objects.get(name="Yearly EUR")
        factories.ContractAssignmentFactory(contract=yearly, assigned_object=tenant, allocation_weight=2)
        factories.ContractAssignmentFactory(contract=yearly, assigned_object=group, allocation_weight=1)
        samples = {
            labels: value
            for (name, labels), value in self.scrape().items()
            if name == "nautobot_contracts_tenant_monthly_cost"
        }
        self.assertEqual(
            samples,
            {
                (("currency", "EUR"), ("tenant", "Metrics tenant"), ("tenant_group", "")): 55.56,
                (("currency", "EUR"), ("tenant", ""), ("tenant_group", "Metrics group")): 27.78,
                (("currency", "USD"), ("tenant", ""), ("tenant_group", "")): 100.0,
            },
        )
        # A metrics user who may not view the tenant sees its share as "(hidden)".
        viewer = get_user_model().objects.create_user(username="prometheus")
        for model in (Contract, ContractAssignment):
            factories.grant(viewer, model)
        with override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"metrics_user": "prometheus"}}):
            samples = self.scrape()
        self.assertEqual(
            samples[
                (
                    "nautobot_contracts_tenant_monthly_cost",
                    (("currency", "EUR"), ("tenant", "(hidden)"), ("tenant_group", "")),
                )
            ],
            83.33,
        )

    def test_open_alerts_per_severity(self, _today):
        common = {"first_seen": D(2026, 3, 1), "last_seen": D(2026, 3, 1), "message": "m"}
        ContractAlert.objects.create(
            kind="renewal_notice", severity="urgent", contract=self.anchor, occasion=D(2026, 12, 31), **common
        )
        ContractAlert.objects.create(  # snoozed: still open
            kind="cost_anomaly", severity="urgent", currency="USD", metric="monthly_burn", occasion=D(2026, 3, 1),
            snoozed_until=D(2026, 4, 1), **common,
        )  # fmt: skip
        ContractAlert.objects.create(  # acknowledged: not open
            kind="cost_anomaly", severity="soon", state="acknowledged", currency="EUR", metric="monthly_burn",
            occasion=D(2026, 3, 1), **common,
        )  # fmt: skip
        alerts = {
            dict(labels)["severity"]: value
            for (name, labels), value in self.scrape().items()
            if name == "nautobot_contracts_open_alerts"
        }
        self.assertEqual(alerts, {"upcoming": 0.0, "soon": 0.0, "urgent": 2.0, "missed": 0.0})
        viewer = get_user_model().objects.create_user(username="prometheus")
        factories.grant(viewer, ContractAlert, constraints={"kind": "renewal_notice"})
        with override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"metrics_user": "prometheus"}}):
            samples = self.scrape()
        self.assertEqual(samples[("nautobot_contracts_open_alerts", (("severity", "urgent"),))], 1.0)

    def test_uncovered_devices_is_cached(self, _today):
        self.assertEqual(self.scrape()[("nautobot_contracts_uncovered_devices", ())], 2.0)
        factories.make_device("bare-3", location=factories.make_location("Metrics HQ"))
        self.assertEqual(self.scrape()[("nautobot_contracts_uncovered_devices", ())], 2.0)  # still the cached count
        with self.assertNumQueries(0):
            list(metrics.metric_uncovered_devices())
        cache.clear()
        self.assertEqual(self.scrape()[("nautobot_contracts_uncovered_devices", ())], 3.0)

    def test_metrics_user_restricts_every_gauge(self, _today):
        viewer = get_user_model().objects.create_user(username="prometheus")
        factories.grant(viewer, Contract, constraints={"currency": "USD"})
        with override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"metrics_user": "prometheus"}}):
            samples = self.scrape()
        burn = {labels: value for (name, labels), value in samples.items() if name.endswith("_monthly_burn")}
        self.assertEqual(burn, {(("currency", "USD"),): 210.0})
        tiers = {labels[0][1]: value for (name, labels), value in samples.items() if name.endswith("_contracts")}
        self.assertEqual(tiers, {"missed": 1.0, "urgent": 0.0, "soon": 0.0, "upcoming": 1.0, "none": 1.0})
        # No view permission on devices: the user sees no devices, so none uncovered.
        self.assertEqual(samples[("nautobot_contracts_uncovered_devices", ())], 0.0)

    def test_unknown_metrics_user_shows_nothing(self, _today):
        with override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"metrics_user": "nobody"}}):
            samples = self.scrape()
        self.assertFalse([key for key in samples if key[0].endswith(("_monthly_burn", "_forecast_90d"))])
        self.assertEqual({value for key, value in samples.items() if key[0] == "nautobot_contracts_contracts"}, {0.0})
        self.assertNotIn(("nautobot_contracts_uncovered_devices", ()), samples)

    def test_bounded_queries(self, _today):
        def counts():
            cache.clear()
            result = []
            for generator in metrics.metrics:
                with CaptureQueriesContext(connection) as queries:
                    list(generator())
                result.append(len(queries))
            return result

        counts()  # warms Django's content-type cache (a fixed handful of lookups on a cold process)
        small = counts()
        for index in range(25):
            make_contract(
                name=f"Bulk {index:02d}", end_date=D(2026, 3, 5 + index % 20), currency=("USD", "EUR")[index % 2]
            )
            factories.make_device(f"bulk-{index:02d}", location=factories.make_location("Metrics HQ"))
        self.assertEqual(counts(), small)
        # money: one aggregate; tiers: the ranked list and the active count; uncovered devices: one count; alerts: one;
        # tenant cost: the allocation statement, the totals and the rates (no tenant to name here).
        self.assertEqual(small, [1, 2, 1, 1, 3])
