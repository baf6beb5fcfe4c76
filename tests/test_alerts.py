"""Contract alerts: the three kinds with hand-worked dates, escalation, auto-resolve, snooze, re-open, idempotent and
overlapping runs, restriction, bounded queries, and the Jobs that raise them (DOMAIN.md "Alerts")."""

import datetime
from decimal import Decimal
import threading
import time
from unittest import mock

from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from nautobot.apps.change_logging import web_request_context
from nautobot.apps.testing import TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices, ObjectChangeActionChoices
from nautobot.extras.models import ObjectChange
from nautobot.users.models import User

from nautobot_contracts.models import Contract, ContractAlert, CostSnapshot, Invoice
from nautobot_contracts.services import alerts
from nautobot_contracts.services.anomalies import KIND_RISE, Anomaly, AnomalyReport
from tests import factories

D = datetime.date
RENEWALS = ("nautobot_contracts.jobs.renewals", "CheckUpcomingRenewals")
ANOMALIES = ("nautobot_contracts.jobs.costs", "DetectCostAnomalies")
OVERDUE = ("nautobot_contracts.jobs.invoices", "CheckOverdueInvoices")


def run(job, username="alert-runner", **job_kwargs):
    """Run a Job synchronously (eager Celery) and return its refreshed JobResult."""
    _, job_model = get_job_class_and_model(*job)
    job_result = run_job_for_testing(job_model, username=username, job_kwargs=job_kwargs)
    job_result.refresh_from_db()
    return job_result


def renewal_alerts(contract):
    return list(ContractAlert.objects.filter(kind="renewal_notice", contract=contract).order_by("occasion"))


def states(queryset):
    return sorted((alert.occasion, alert.severity, alert.state) for alert in queryset)


class JobLogsOnDefaultDatabase:
    """Job log entries through the test's own connection (the job_logs one cannot see a TestCase's transaction)."""

    def setUp(self):
        super().setUp()
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)


class RenewalAlertTest(TestCase):
    """renewal_notice: one alert per (contract, current term end), severity = the tier, lead time per contract."""

    @classmethod
    def setUpTestData(cls):
        cls.provider = factories.ServiceProviderFactory(name="Acme")
        # Term 2025-01-01..2026-12-31, 60 days' notice: deadline 2026-11-01; default lead 90 days -> from 2026-08-03.
        cls.fixed = factories.ContractFactory(
            name="Fixed", provider=cls.provider, start_date=D(2025, 1, 1), end_date=D(2026, 12, 31),
            notice_period_days=60,
        )  # fmt: skip

    def sync(self, as_of, **kwargs):
        return alerts.sync_renewal_alerts(as_of, **kwargs)

    def test_escalation_across_runs(self):
        """upcoming -> soon -> urgent -> missed, on one row, then resolved when the term lapses."""
        expected = [
            (D(2026, 8, 2), None),  # 91 days before the deadline: outside the lead time
            (D(2026, 8, 3), "upcoming"),  # 90 days
            (D(2026, 10, 1), "upcoming"),  # 31 days
            (D(2026, 10, 2), "soon"),  # 30 days
            (D(2026, 10, 18), "urgent"),  # 14 days
            (D(2026, 11, 1), "urgent"),  # the deadline itself
            (D(2026, 11, 2), "missed"),  # passed; the term still runs to 2026-12-31
            (D(2026, 12, 31), "missed"),  # last day of the term
        ]
        for as_of, severity in expected:
            with self.subTest(as_of=as_of):
                self.sync(as_of)
                rows = renewal_alerts(self.fixed)
                if severity is None:
                    self.assertEqual(rows, [])
                    continue
                self.assertEqual(len(rows), 1)
                self.assertEqual((rows[0].severity, rows[0].state), (severity, "open"))
                self.assertEqual((rows[0].occasion, rows[0].due_date), (D(2026, 12, 31), D(2026, 11, 1)))
                self.assertEqual((rows[0].first_seen, rows[0].last_seen), (D(2026, 8, 3), as_of))
        # 2027-01-01: the term ended without auto-renewal (lapsed): no longer active, so the alert resolves.
        written = self.sync(D(2027, 1, 1))
        self.assertEqual(written.counts(), {"created": 0, "updated": 0, "resolved": 1})
        (row,) = renewal_alerts(self.fixed)
        self.assertEqual((row.state, row.severity), ("resolved", "missed"))
        self.assertIsNotNone(row.resolved_at)

    def test_counts_and_idempotent_rerun(self):
        self.assertEqual(self.sync(D(2026, 9, 1)).counts(), {"created": 1, "updated": 0, "resolved": 0})
        self.assertEqual(self.sync(D(2026, 9, 1)).counts(), {"created": 0, "updated": 0, "resolved": 0})
        # Another day, same tier: last_seen moves, nothing counted as updated.
        self.assertEqual(self.sync(D(2026, 9, 2)).counts(), {"created": 0, "updated": 0, "resolved": 0})
        self.assertEqual(ContractAlert.objects.count(), 1)
        self.assertEqual(ContractAlert.objects.get().last_seen, D(2026, 9, 2))
        # A run for an earlier day never moves last_seen back.
        self.sync(D(2026, 8, 20))
        self.assertEqual(ContractAlert.objects.get().last_seen, D(2026, 9, 2))
        self.assertEqual(self.sync(D(2026, 10, 2)).counts(), {"created": 0, "updated": 1, "resolved": 0})

    def test_lead_time_per_contract(self):
        """alert_lead_days = 10: no alert 30 days before the deadline (soon), one at 10 days (urgent)."""
        Contract.objects.filter(pk=self.fixed.pk).update(alert_lead_days=10)
        self.sync(D(2026, 10, 2))
        self.assertEqual(renewal_alerts(self.fixed), [])
        self.sync(D(2026, 10, 22))
        self.assertEqual([row.severity for row in renewal_alerts(self.fixed)], ["urgent"])

    def test_lead_time_setting(self):
        with self.settings(PLUGINS_CONFIG={"nautobot_contracts": {"renewal_alert_days": 120}}):
            self.sync(D(2026, 7, 4))  # 120 days before 2026-11-01
        self.assertEqual([row.severity for row in renewal_alerts(self.fixed)], ["upcoming"])

    def test_renewed_contract_gets_a_new_alert_for_its_new_term(self):
        self.sync(D(2026, 10, 20))
        # Renewed by hand: a new end date; the old term's alert resolves, the new term is not due yet.
        Contract.objects.filter(pk=self.fixed.pk).update(end_date=D(2027, 12, 31))
        written = self.sync(D(2026, 10, 21))
        self.assertEqual(written.counts(), {"created": 0, "updated": 0, "resolved": 1})
        # 2027-12-31 - 60 days = 2027-11-01; 90 days before it is 2027-08-03.
        written = self.sync(D(2027, 8, 3))
        self.assertEqual(written.counts(), {"created": 1, "updated": 0, "resolved": 0})
        self.assertEqual(
            states(ContractAlert.objects.filter(contract=self.fixed)),
            [(D(2026, 12, 31), "urgent", "resolved"), (D(2027, 12, 31), "upcoming", "open")],
        )

    def test_auto_renewal_rolls_to_a_new_occasion(self):
        """Auto-renewing, 30 days' notice, term end 2026-06-30: missed on 2026-06-15, resolved when it rolls."""
        rolling = factories.ContractFactory(
            name="Rolling", provider=self.provider, start_date=D(2025, 7, 1), end_date=D(2026, 6, 30),
            notice_period_days=30, auto_renew=True, renewal_term_months=12,
        )  # fmt: skip
        self.sync(D(2026, 5, 10))  # deadline 2026-05-31 in 21 days: urgent (auto-renewing: within 2 x 14)
        self.sync(D(2026, 6, 15))  # deadline passed, term runs to 2026-06-30: missed
        self.assertEqual(states(renewal_alerts(rolling)), [(D(2026, 6, 30), "missed", "open")])
        self.sync(D(2026, 7, 1))  # rolled: term end 2027-06-30, deadline 2027-05-31, 334 days away
        self.assertEqual(states(renewal_alerts(rolling)), [(D(2026, 6, 30), "missed", "resolved")])
        self.sync(D(2027, 3, 2))  # 90 days before 2027-05-31
        self.assertEqual(
            states(renewal_alerts(rolling)),
            [(D(2026, 6, 30), "missed", "resolved"), (D(2027, 6, 30), "upcoming", "open")],
        )

    def test_cancelled_and_expired_resolve(self):
        other = factories.ContractFactory(
            name="Other", provider=self.provider, start_date=D(2025, 1, 1), end_date=D(2026, 12, 31),
            notice_period_days=60,
        )  # fmt: skip
        self.sync(D(2026, 10, 2))
        Contract.objects.filter(pk=self.fixed.pk).update(status=factories.status_for(Contract, "Cancelled"))
        Contract.objects.filter(pk=other.pk).update(status=factories.status_for(Contract, "Expired"))
        self.assertEqual(self.sync(D(2026, 10, 3)).counts(), {"created": 0, "updated": 0, "resolved": 2})
        self.assertEqual(set(ContractAlert.objects.values_list("state", flat=True)), {"resolved"})

    def person_change(self, alert, user, today, **changes):
        """Change an alert as a person does (a form, bulk edit or REST PATCH): full_clean() then save()."""
        user = user or User.objects.get_or_create(username="person")[0]
        for name, value in changes.items():
            setattr(alert, name, value)
        with mock.patch("nautobot_contracts.clock.today", return_value=today), web_request_context(user):
            alert.validated_save()
        return alert

    def test_acknowledged_reopens_when_severity_rises(self):
        self.sync(D(2026, 10, 2))  # soon
        alert = ContractAlert.objects.get()
        user = User.objects.create_user(username="ack")
        self.person_change(alert, user, D(2026, 10, 2), state="acknowledged", ack_comment="on it")
        alert.refresh_from_db()
        self.assertEqual((alert.state, alert.acknowledged_by, alert.ack_comment), ("acknowledged", user, "on it"))
        self.assertIsNotNone(alert.acknowledged_at)
        self.sync(D(2026, 10, 10))  # still soon (22 days): stays acknowledged
        self.assertEqual(ContractAlert.objects.get().state, "acknowledged")
        written = self.sync(D(2026, 10, 18))  # urgent: re-opens
        self.assertEqual(written.counts(), {"created": 0, "updated": 1, "resolved": 0})
        self.assertEqual(written.risen, written.updated)
        alert.refresh_from_db()
        self.assertEqual((alert.state, alert.severity), ("open", "urgent"))
        # A person re-opening by hand clears the acknowledgement.
        self.person_change(alert, user, D(2026, 10, 18), state="acknowledged")
        self.person_change(ContractAlert.objects.get(), user, D(2026, 10, 18), state="open")
        alert.refresh_from_db()
        self.assertEqual((alert.state, alert.acknowledged_by, alert.acknowledged_at), ("open", None, None))

    def test_resolved_alert_reopens_when_condition_returns(self):
        self.sync(D(2026, 10, 2))
        cancelled = factories.status_for(Contract, "Cancelled")
        Contract.objects.filter(pk=self.fixed.pk).update(status=cancelled)
        self.sync(D(2026, 10, 3))
        Contract.objects.filter(pk=self.fixed.pk).update(status=factories.status_for(Contract, "Active"))
        self.assertEqual(self.sync(D(2026, 10, 4)).counts(), {"created": 0, "updated": 1, "resolved": 0})
        alert = ContractAlert.objects.get()
        self.assertEqual((alert.state, alert.resolved_at), ("open", None))

    def test_snooze(self):
        self.sync(D(2026, 10, 2))
        alert = ContractAlert.objects.get()
        needs_action = ContractAlert.objects.filter(alerts.needs_action_q(D(2026, 10, 2)))
        self.assertEqual(list(needs_action), [alert])
        self.person_change(alert, None, D(2026, 10, 2), snoozed_until=D(2026, 10, 9))
        self.assertEqual(ContractAlert.objects.filter(alerts.needs_action_q(D(2026, 10, 8))).count(), 0)
        self.assertEqual(ContractAlert.objects.filter(alerts.needs_action_q(D(2026, 10, 9))).count(), 1)
        self.assertEqual(ContractAlert.objects.get().state, "open")  # snoozed alerts stay open
        alert = ContractAlert.objects.get()
        with self.assertRaises(ValidationError) as raised:
            self.person_change(alert, None, D(2026, 10, 2), snoozed_until=D(2026, 10, 1))
        self.assertIn("Cannot snooze into the past", raised.exception.message_dict["snoozed_until"][0])
        self.assertEqual(ContractAlert.objects.get().snoozed_until, D(2026, 10, 9))

    def test_person_changes_refused_on_resolved(self):
        self.sync(D(2026, 10, 2))
        Contract.objects.filter(pk=self.fixed.pk).update(status=factories.status_for(Contract, "Cancelled"))
        self.sync(D(2026, 10, 3))
        for change, field in (
            ({"state": "acknowledged"}, "state"),
            ({"state": "open"}, "state"),
            ({"snoozed_until": D(2026, 12, 1)}, "snoozed_until"),
        ):
            with self.subTest(change=change), self.assertRaises(ValidationError) as raised:
                self.person_change(ContractAlert.objects.get(), None, D(2026, 10, 3), **change)
            self.assertIn(field, raised.exception.message_dict)
        self.assertEqual(ContractAlert.objects.get().state, "resolved")
        errors = alerts.person_change_errors("open", None, "resolved", None, D(2026, 10, 3))
        self.assertIn("the Jobs resolve alerts", errors["state"])

    def test_restricted_run_touches_only_visible_contracts(self):
        other_provider = factories.ServiceProviderFactory(name="Other Co")
        hidden = factories.ContractFactory(
            name="Hidden", provider=other_provider, start_date=D(2025, 1, 1), end_date=D(2026, 12, 31),
            notice_period_days=60,
        )  # fmt: skip
        self.sync(D(2026, 10, 2))  # internal run: both contracts get an alert
        self.assertEqual(ContractAlert.objects.count(), 2)
        user = User.objects.create_user(username="acme-only")
        factories.grant(user, Contract, constraints={"provider__name": "Acme"})
        user = User.objects.get(pk=user.pk)
        # Both contracts cancelled; the user's run resolves only the alert of the contract they may view.
        cancelled = factories.status_for(Contract, "Cancelled")
        Contract.objects.filter(pk__in=[self.fixed.pk, hidden.pk]).update(status=cancelled)
        written = self.sync(D(2026, 10, 3), user=user)
        self.assertEqual(written.counts(), {"created": 0, "updated": 0, "resolved": 1})
        self.assertEqual(ContractAlert.objects.get(contract=hidden).state, "open")
        self.assertEqual(ContractAlert.objects.get(contract=self.fixed).state, "resolved")

    def test_providers_filter_scopes_resolution(self):
        other_provider = factories.ServiceProviderFactory(name="Other Co")
        other = factories.ContractFactory(
            name="Other", provider=other_provider, start_date=D(2025, 1, 1), end_date=D(2026, 12, 31),
            notice_period_days=60,
        )  # fmt: skip
        self.sync(D(2026, 10, 2))
        Contract.objects.filter(pk=other.pk).update(status=factories.status_for(Contract, "Cancelled"))
        self.assertEqual(self.sync(D(2026, 10, 3), providers=[self.provider]).counts()["resolved"], 0)
        self.assertEqual(ContractAlert.objects.get(contract=other).state, "open")

    def test_queries_do_not_grow_with_the_alerts(self):
        """Same number of queries for 2 and 40 contracts, on the first run (creates) and a re-run (updates)."""

        def measure(as_of):
            with CaptureQueriesContext(connection) as queries:
                self.sync(as_of)
            return len(queries)

        small = (measure(D(2026, 9, 1)), measure(D(2026, 10, 2)))
        ContractAlert.objects.all().delete()
        for index in range(39):
            factories.ContractFactory(
                name=f"Bulk {index}", provider=self.provider, start_date=D(2025, 1, 1), end_date=D(2026, 12, 31),
                notice_period_days=60,
            )  # fmt: skip
        large = (measure(D(2026, 9, 1)), measure(D(2026, 10, 2)))
        self.assertEqual(ContractAlert.objects.filter(severity="soon").count(), 40)
        self.assertEqual(small, large)

    def test_change_logged_in_bulk_with_bounded_queries(self):
        """Inside a request or Job, each created or changed alert gets its ObjectChange (what webhooks read)."""
        user = User.objects.create_user(username="logger", is_superuser=True)

        def measure(as_of):
            with web_request_context(user) as _request, CaptureQueriesContext(connection) as queries:
                self.sync(as_of)
            return len([sql for sql in queries.captured_queries if "extras_webhook" not in sql["sql"]])

        def fresh_run():
            ContractAlert.objects.all().delete()
            ObjectChange.objects.all().delete()
            return measure(D(2026, 9, 1))

        measure(D(2026, 9, 1))  # warms the content-type and custom-field caches
        small = fresh_run()
        for index in range(20):
            factories.ContractFactory(
                name=f"Logged {index}", provider=self.provider, start_date=D(2025, 1, 1), end_date=D(2026, 12, 31),
                notice_period_days=60,
            )  # fmt: skip
        self.assertEqual(fresh_run(), small)
        creates = ObjectChange.objects.filter(action=ObjectChangeActionChoices.ACTION_CREATE)
        self.assertEqual(creates.count(), 21)
        change = creates.get(changed_object_id=ContractAlert.objects.get(contract=self.fixed).pk)
        self.assertEqual(change.object_data_v2["severity"], "upcoming")
        self.assertEqual(change.object_data_v2["due_date"], "2026-11-01")
        self.assertEqual(change.user, user)


class AlertModelTest(TestCase):
    def test_unique_per_kind_subject_occasion(self):
        contract = factories.ContractFactory(name="U")
        common = {
            "severity": "soon",
            "occasion": D(2026, 12, 31),
            "first_seen": D(2026, 1, 1),
            "last_seen": D(2026, 1, 1),
        }
        ContractAlert.objects.create(kind="renewal_notice", contract=contract, **common)
        ContractAlert.objects.create(kind="cost_anomaly", currency="USD", metric="monthly_burn", **common)
        # Other kinds and other subjects share the occasion freely.
        ContractAlert.objects.create(kind="cost_anomaly", currency="USD", metric="renewal_90d", **common)
        ContractAlert.objects.create(kind="cost_anomaly", currency="EUR", metric="monthly_burn", **common)
        for duplicate in (
            {"kind": "renewal_notice", "contract": contract},
            {"kind": "cost_anomaly", "currency": "USD", "metric": "monthly_burn"},
        ):
            with self.subTest(duplicate=duplicate), self.assertRaises(Exception), transaction.atomic():  # noqa: B017
                ContractAlert.objects.create(**duplicate, **common)

    def test_created_only_by_the_service_on_user_surfaces(self):
        user = User.objects.create_user(username="hand")
        common = {
            "severity": "soon",
            "occasion": D(2026, 12, 31),
            "first_seen": D(2026, 1, 1),
            "last_seen": D(2026, 1, 1),
        }
        with web_request_context(user), self.assertRaises(ValidationError):
            ContractAlert(kind="cost_anomaly", currency="USD", metric="monthly_burn", **common).save()
        self.assertEqual(ContractAlert.objects.count(), 0)


class AnomalyAlertTest(TestCase):
    """cost_anomaly: subject (currency, metric), occasion the later snapshot's date; soon < 2 x threshold <= urgent."""

    def report(self, *moves, checked=("USD",)):
        found = [
            Anomaly(
                kind=KIND_RISE,
                currency=currency,
                metric=metric,
                baseline_date=D(2026, 5, 1),
                baseline=Decimal(100),
                current_date=day,
                current=Decimal(100) + pct,
                pct_change=pct,
            )  # fmt: skip
            for currency, metric, day, pct in moves
        ]
        return AnomalyReport(anomalies=found, currencies_checked=list(checked), latest_date=None, baseline_date=None)

    def test_severity_and_resolution(self):
        # Threshold 20%: +25% is soon, +40% (2 x threshold) urgent.
        report = self.report(
            ("USD", "monthly_burn", D(2026, 6, 1), Decimal(25)), ("USD", "renewal_90d", D(2026, 6, 1), Decimal(40))
        )
        self.assertEqual(alerts.sync_anomaly_alerts(report, 20, D(2026, 6, 1)).counts()["created"], 2)
        rows = {row.metric: row for row in ContractAlert.objects.filter(kind="cost_anomaly")}
        self.assertEqual((rows["monthly_burn"].severity, rows["renewal_90d"].severity), ("soon", "urgent"))
        self.assertEqual(rows["monthly_burn"].occasion, D(2026, 6, 1))
        # Next day only renewal_90d still moved (a new occasion): both 2026-06-01 alerts resolve, one new alert.
        report = self.report(("USD", "renewal_90d", D(2026, 6, 2), Decimal(41)))
        self.assertEqual(
            alerts.sync_anomaly_alerts(report, 20, D(2026, 6, 2)).counts(), {"created": 1, "updated": 0, "resolved": 2}
        )
        # A run that did not check EUR never resolves EUR alerts.
        alerts.sync_anomaly_alerts(
            self.report(("EUR", "monthly_burn", D(2026, 6, 2), Decimal(30)), checked=("EUR",)), 20, D(2026, 6, 2)
        )
        self.assertEqual(alerts.sync_anomaly_alerts(self.report(), 20, D(2026, 6, 2)).counts()["resolved"], 1)
        self.assertEqual(ContractAlert.objects.get(currency="EUR").state, "open")

    def test_rise_from_zero_is_urgent(self):
        self.assertEqual(alerts.anomaly_severity(None, 20), "urgent")
        self.assertEqual(alerts.anomaly_severity(Decimal("-39.99"), 20), "soon")
        self.assertEqual(alerts.anomaly_severity(Decimal("-40"), 20), "urgent")


class OverlappingRunsTest(TestCase):
    """Two connections write the same alerts while the first holds its transaction open: no duplicate, no error."""

    def test_overlapping_runs(self):
        day = D(1999, 1, 1)  # far from any other test's data: these rows are really committed
        barrier = threading.Barrier(2, timeout=10)
        errors, waited = [], []

        def findings(pct):
            report = AnomalyReport(
                anomalies=[
                    Anomaly(
                        kind=KIND_RISE,
                        currency=code,
                        metric="monthly_burn",
                        baseline_date=D(1998, 12, 1),
                        baseline=Decimal(100),
                        current_date=day,
                        current=Decimal(100) + pct,
                        pct_change=pct,
                    )  # fmt: skip
                    for code in ("XAU", "XAG")
                ],
                currencies_checked=["XAU", "XAG"],
                latest_date=day,
                baseline_date=None,
            )
            return report

        def first():
            try:
                with transaction.atomic():
                    alerts.sync_anomaly_alerts(findings(Decimal(25)), 20, day)
                    barrier.wait()
                    time.sleep(0.5)  # the second writer now waits on the advisory lock
            except Exception as error:  # noqa: BLE001  # pylint: disable=broad-exception-caught
                errors.append(error)
            finally:
                connections.close_all()

        def second():
            try:
                barrier.wait()
                started = time.monotonic()
                outcome = alerts.sync_anomaly_alerts(findings(Decimal(50)), 20, day)
                waited.append((time.monotonic() - started, outcome.counts()))
            except Exception as error:  # noqa: BLE001  # pylint: disable=broad-exception-caught
                errors.append(error)
            finally:
                connections.close_all()

        def cleanup():
            ContractAlert.objects.filter(occasion=day).delete()
            connections.close_all()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            self.assertEqual(errors, [])
            self.assertEqual(len(waited), 1)
            self.assertGreater(waited[0][0], 0.3)  # really overlapped: it waited for the first commit
            self.assertEqual(waited[0][1], {"created": 0, "updated": 2, "resolved": 0})  # saw the first run's rows
            stored = ContractAlert.objects.filter(occasion=day).order_by("currency")
            self.assertEqual([(row.currency, row.severity) for row in stored], [("XAG", "urgent"), ("XAU", "urgent")])
        finally:
            cleaner = threading.Thread(target=cleanup)
            cleaner.start()
            cleaner.join()


class OverdueAlertTest(TestCase):
    """invoice_overdue: subject the invoice, occasion its due date; soon up to 30 days overdue, urgent beyond."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(name="Billing")
        cls.invoice = factories.InvoiceFactory(contract=cls.contract, invoice_number="INV-1", due_date=D(2026, 3, 1))

    def test_severity_and_paid(self):
        self.assertEqual(alerts.sync_overdue_alerts(D(2026, 3, 1)).counts()["created"], 0)  # due today: not overdue
        alerts.sync_overdue_alerts(D(2026, 3, 2))
        alert = ContractAlert.objects.get(kind="invoice_overdue")
        self.assertEqual((alert.invoice, alert.contract, alert.severity), (self.invoice, self.contract, "soon"))
        self.assertEqual((alert.occasion, alert.due_date), (D(2026, 3, 1), D(2026, 3, 1)))
        alerts.sync_overdue_alerts(D(2026, 3, 31))  # 30 days overdue: still soon
        self.assertEqual(ContractAlert.objects.get().severity, "soon")
        self.assertEqual(alerts.sync_overdue_alerts(D(2026, 4, 1)).counts()["updated"], 1)  # 31 days: urgent
        self.assertEqual(ContractAlert.objects.get().severity, "urgent")
        paid = factories.status_for(Invoice, "Paid")
        Invoice.objects.filter(pk=self.invoice.pk).update(status=paid, paid_date=D(2026, 4, 2))
        self.assertEqual(alerts.sync_overdue_alerts(D(2026, 4, 3)).counts()["resolved"], 1)

    def test_cancelled_resolves_and_restriction(self):
        alerts.sync_overdue_alerts(D(2026, 3, 10))
        user = User.objects.create_user(username="no-invoices")
        factories.grant(user, Invoice, constraints={"invoice_number": "nothing"})
        user = User.objects.get(pk=user.pk)
        cancelled = factories.status_for(Invoice, "Cancelled")
        Invoice.objects.filter(pk=self.invoice.pk).update(status=cancelled)
        self.assertEqual(alerts.sync_overdue_alerts(D(2026, 3, 11), user=user).counts()["resolved"], 0)
        self.assertEqual(alerts.sync_overdue_alerts(D(2026, 3, 11)).counts()["resolved"], 1)


class AlertJobsTest(JobLogsOnDefaultDatabase, TestCase):
    """The Jobs return "alerts": {"created", "updated", "resolved"} and take an as_of input."""

    def test_renewals_job(self):
        contract = factories.ContractFactory(
            name="Job contract", start_date=D(2025, 1, 1), end_date=D(2026, 12, 31), notice_period_days=60
        )
        result = run(RENEWALS, as_of="2026-10-02")
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, result.traceback)
        self.assertEqual(result.result["alerts"], {"created": 1, "updated": 0, "resolved": 0})
        self.assertEqual(renewal_alerts(contract)[0].severity, "soon")
        result = run(RENEWALS, as_of="2026-10-18")
        self.assertEqual(result.result["alerts"], {"created": 0, "updated": 1, "resolved": 0})
        # The Job's change context logs the alert writes (webhooks fan out from these).
        self.assertEqual(ObjectChange.objects.filter(changed_object_id=renewal_alerts(contract)[0].pk).count(), 2)

    def test_overdue_job(self):
        factories.InvoiceFactory(due_date=D(2026, 3, 1))
        result = run(OVERDUE, as_of="2026-04-15")
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, result.traceback)
        self.assertEqual(result.result, {"as_of": "2026-04-15", "alerts": {"created": 1, "updated": 0, "resolved": 0}})
        self.assertEqual(ContractAlert.objects.get().severity, "urgent")  # 45 days overdue

    def test_anomalies_job(self):
        factories.CostSnapshotFactory(snapshot_date=D(2026, 5, 1), currency="USD", monthly_burn=Decimal(1000))
        factories.CostSnapshotFactory(snapshot_date=D(2026, 6, 1), currency="USD", monthly_burn=Decimal(1300))
        result = run(ANOMALIES, as_of="2026-06-01", threshold_pct=20, lookback_days=28)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, result.traceback)
        self.assertEqual(result.result["alerts"], {"created": 1, "updated": 0, "resolved": 0})
        alert = ContractAlert.objects.get()
        self.assertEqual((alert.currency, alert.metric, alert.severity), ("USD", "monthly_burn", "soon"))  # +30%
        self.assertEqual(alert.occasion, D(2026, 6, 1))
        self.assertEqual(CostSnapshot.objects.count(), 2)
