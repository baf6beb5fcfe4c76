"""Cost history is write-once: the service rule, the Job's input check and result, and no other surface writing."""

import datetime
from decimal import Decimal
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.urls import reverse
from nautobot.apps.change_logging import web_request_context
from nautobot.apps.testing import APITestCase, TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices, ObjectChangeActionChoices
from nautobot.extras.models import JobLogEntry, JobResult, ObjectChange
from nautobot.users.models import User
from rest_framework import serializers as drf_serializers

from nautobot_contracts.api.serializers import CostSnapshotSerializer
from nautobot_contracts.jobs import costs as cost_jobs
from nautobot_contracts.models import Contract, CostSnapshot
from nautobot_contracts.services import snapshots
from tests import factories
from tests.pinning import pin_today

TODAY = datetime.date(2026, 6, 15)  # pinned: clock.today() is patched to it (tests.pinning.pin_today)
PAST = datetime.date(2026, 6, 1)
SNAPSHOT = ("nautobot_contracts.jobs.costs", "CaptureCostSnapshot")


def job_logs_on_default_database(test):
    """Job log entries through the test's own connection (the job_logs one cannot see a TestCase's transaction)."""
    patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
    patcher.start()
    test.addCleanup(patcher.stop)


def run(module, job_class, **job_kwargs):
    _, job_model = get_job_class_and_model(module, job_class)
    job_result = run_job_for_testing(job_model, username="snapshot-runner", job_kwargs=job_kwargs)
    job_result.refresh_from_db()
    return job_result


def messages(job_result, level=None):
    entries = JobLogEntry.objects.filter(job_result=job_result)
    if level:
        entries = entries.filter(log_level=level)
    return [entry.message for entry in entries.order_by("created")]


def stored(day):
    return {row.currency: row.monthly_burn for row in CostSnapshot.objects.filter(snapshot_date=day)}


class WriteOnceServiceTest(TestCase):
    """services.snapshots.write_snapshot: today's rows update, a past day only gains missing rows, no future."""

    @classmethod
    def setUpTestData(cls):
        cls.usd = factories.ContractFactory(name="usd", recurring_cost=Decimal("100.00"))
        cls.eur = factories.ContractFactory(name="eur", currency="EUR", recurring_cost=Decimal("30.00"))

    def capture(self, day):
        return snapshots.write_snapshot(snapshots.snapshot_rows(day), today=TODAY)

    def test_past_day_is_not_rewritten(self):
        """The reproduced defect: cancel a contract, re-run a past date, and the stored row must not drop to 0."""
        first = self.capture(PAST)
        self.assertEqual([row.currency for row in first.created], ["EUR", "USD"])
        before = {row.pk: row.last_updated for row in CostSnapshot.objects.all()}
        Contract.objects.filter(pk=self.usd.pk).update(status=factories.status_for(Contract, "Cancelled"))

        again = self.capture(PAST)
        self.assertEqual((again.created, again.updated), ([], []))
        self.assertEqual(sorted(row.currency for row in again.skipped), ["EUR", "USD"])
        self.assertEqual(stored(PAST), {"EUR": Decimal("30.00"), "USD": Decimal("100.00")})
        self.assertEqual({row.pk: row.last_updated for row in CostSnapshot.objects.all()}, before)

    def test_backfill_writes_only_missing_rows(self):
        factories.CostSnapshotFactory(snapshot_date=PAST, currency="USD", monthly_burn=Decimal("7.00"))
        outcome = self.capture(PAST)
        self.assertEqual([row.currency for row in outcome.created], ["EUR"])
        self.assertEqual([row.currency for row in outcome.skipped], ["USD"])
        self.assertEqual(stored(PAST), {"EUR": Decimal("30.00"), "USD": Decimal("7.00")})

    def test_today_is_updated_in_place(self):
        self.capture(TODAY)
        ids = set(CostSnapshot.objects.values_list("pk", flat=True))
        Contract.objects.filter(pk=self.usd.pk).update(recurring_cost=Decimal("250.00"))
        outcome = self.capture(TODAY)
        self.assertEqual(sorted(row.currency for row in outcome.updated), ["EUR", "USD"])
        self.assertEqual((outcome.created, outcome.skipped), ([], []))
        self.assertEqual(set(CostSnapshot.objects.values_list("pk", flat=True)), ids)
        self.assertEqual(stored(TODAY)["USD"], Decimal("250.00"))

    def test_future_date_refused_and_nothing_written(self):
        rows = snapshots.snapshot_rows(TODAY) + snapshots.snapshot_rows(TODAY + datetime.timedelta(days=1))
        with self.assertRaises(snapshots.FutureSnapshotError):
            snapshots.write_snapshot(rows, today=TODAY)
        self.assertFalse(CostSnapshot.objects.exists())

    def test_writes_are_change_logged(self):
        user = User.objects.create(username="history-writer")
        for _ in range(2):  # two runs: one change context each, as two Job runs have
            with web_request_context(user):
                self.capture(TODAY)
        actions = ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(CostSnapshot)
        ).values_list("action", flat=True)
        self.assertEqual(
            sorted(actions),
            sorted([ObjectChangeActionChoices.ACTION_CREATE] * 2 + [ObjectChangeActionChoices.ACTION_UPDATE] * 2),
        )


class SnapshotJobTest(TestCase):
    """The Job is thin: validated date, counts of written / updated / skipped rows in result and log."""

    @classmethod
    def setUpTestData(cls):
        factories.ContractFactory(name="usd", recurring_cost=Decimal("100.00"))

    def setUp(self):
        super().setUp()
        pin_today(self, TODAY)
        job_logs_on_default_database(self)

    def test_future_date_is_a_form_error(self):
        job = cost_jobs.CaptureCostSnapshot
        with self.assertRaises(ValidationError) as raised:
            job.validate_data({"as_of": (TODAY + datetime.timedelta(days=1)).isoformat()})
        self.assertIn("after today", str(raised.exception.message_dict["as_of"]))
        self.assertEqual(job.validate_data({"as_of": TODAY.isoformat()})["as_of"], TODAY.isoformat())
        self.assertEqual(job.validate_data({"as_of": PAST.isoformat()})["as_of"], PAST.isoformat())

    def test_counts_in_result_and_log(self):
        first = run(*SNAPSHOT, as_of=PAST.isoformat())
        self.assertEqual(first.status, JobResultStatusChoices.STATUS_SUCCESS, first.traceback)
        self.assertEqual(
            {key: first.result[key] for key in ("written", "updated", "skipped")},
            {"written": 1, "updated": 0, "skipped": 0},
        )
        again = run(*SNAPSHOT, as_of=PAST.isoformat())
        self.assertEqual(
            {key: again.result[key] for key in ("written", "updated", "skipped")},
            {"written": 0, "updated": 0, "skipped": 1},
        )
        self.assertEqual(again.result["rows"], [])
        self.assertEqual([row["currency"] for row in again.result["skipped_rows"]], ["USD"])
        self.assertIn(
            f"Snapshot {PAST.isoformat()}: 0 row(s) written, 0 updated, 1 skipped (already recorded).",
            messages(again),
        )
        run(*SNAPSHOT)  # today (pinned)
        today_again = run(*SNAPSHOT)
        self.assertEqual(
            (today_again.result["as_of"], today_again.result["written"], today_again.result["updated"]),
            (TODAY.isoformat(), 0, 1),
        )
        self.assertEqual(CostSnapshot.objects.filter(snapshot_date=TODAY).count(), 1)


class SnapshotJobRestTest(APITestCase):
    """The REST Jobs API answers 400 for a future snapshot date, before any JobResult exists."""

    def setUp(self):
        super().setUp()
        pin_today(self, TODAY)
        self.add_permissions("extras.run_job", "extras.view_job")

    @mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1)
    def test_future_date_400(self, _):
        _, job_model = get_job_class_and_model(*SNAPSHOT)
        job_model.enabled = True
        job_model.save()
        before = JobResult.objects.count()
        url = reverse("extras-api:job-run", kwargs={"pk": job_model.pk})
        tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
        response = self.client.post(url, {"data": {"as_of": tomorrow}}, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("as_of", response.data["errors"])
        self.assertEqual(JobResult.objects.count(), before)


class NoOtherWriterTest(TestCase):
    """The serializer is read-only; Nautobot's Import / Bulk Delete / Bulk Edit system Jobs change no snapshot."""

    @classmethod
    def setUpTestData(cls):
        cls.snapshot = factories.CostSnapshotFactory(snapshot_date=PAST, currency="USD", monthly_burn=Decimal("5"))
        cls.content_type = ContentType.objects.get_for_model(CostSnapshot)

    def setUp(self):
        super().setUp()
        job_logs_on_default_database(self)

    def test_serializer_refuses_writes(self):
        data = {"snapshot_date": "2026-06-02", "currency": "EUR", "monthly_burn": "1.00", "renewal_90d": "0.00",
                "active_contract_count": 1}  # fmt: skip
        serializer = CostSnapshotSerializer(data=data, context={"request": None})
        self.assertFalse(serializer.is_valid())
        self.assertIn("read-only", str(serializer.errors["non_field_errors"][0]))
        self.assertTrue(all(field.read_only for field in CostSnapshotSerializer().fields.values()))
        with self.assertRaises(drf_serializers.ValidationError):
            CostSnapshotSerializer().create(data)
        with self.assertRaises(drf_serializers.ValidationError):
            CostSnapshotSerializer().update(self.snapshot, data)
        # Reading still works.
        self.assertEqual(CostSnapshotSerializer(self.snapshot, context={"request": None}).data["currency"], "USD")

    def test_import_objects_creates_nothing(self):
        csv_data = "snapshot_date,currency,monthly_burn,renewal_90d,active_contract_count\n2026-06-02,EUR,1.00,0.00,1\n"
        for roll_back in (True, False):
            with self.subTest(roll_back_if_error=roll_back):
                job_result = run(
                    "nautobot.core.jobs",
                    "ImportObjects",
                    content_type=self.content_type.pk,
                    csv_data=csv_data,
                    roll_back_if_error=roll_back,
                )
                self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
                self.assertIn("No costsnapshot objects were created", messages(job_result))
                if not roll_back:
                    # With roll-back the row errors go down with the import's transaction here, since the test's
                    # log entries share it (a worker writes them over its separate job_logs connection).
                    errors = messages(job_result, LogLevelChoices.LOG_ERROR)
                    self.assertTrue(any("read-only" in message for message in errors), messages(job_result))
                self.assertEqual(list(CostSnapshot.objects.values_list("pk", flat=True)), [self.snapshot.pk])

    def test_bulk_delete_objects_deletes_nothing(self):
        for kwargs in ({"pk_list": [str(self.snapshot.pk)]}, {"delete_all": True}):
            with self.subTest(**kwargs):
                job_result = run(
                    "nautobot.core.jobs.bulk_actions", "BulkDeleteObjects", content_type=self.content_type.pk, **kwargs
                )
                self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
                errors = messages(job_result, LogLevelChoices.LOG_ERROR)
                self.assertTrue(any("never deleted" in message for message in errors), errors)
                self.assertTrue(CostSnapshot.objects.filter(pk=self.snapshot.pk).exists())
        self.assertFalse(
            ObjectChange.objects.filter(
                changed_object_type=self.content_type, action=ObjectChangeActionChoices.ACTION_DELETE
            ).exists()
        )

    def test_bulk_edit_objects_changes_nothing(self):
        job_result = run(
            "nautobot.core.jobs.bulk_actions",
            "BulkEditObjects",
            content_type=self.content_type.pk,
            form_data={"pk": [str(self.snapshot.pk)], "monthly_burn": "999.00"},
            pk_list=[str(self.snapshot.pk)],
        )
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.snapshot.refresh_from_db()
        self.assertEqual(self.snapshot.monthly_burn, Decimal("5.00"))

    def test_orm_writes_from_a_user_surface_refused(self):
        with web_request_context(User.objects.create(username="shell-in-a-request")):
            with self.assertRaises(ValidationError):
                CostSnapshot.objects.create(snapshot_date=TODAY, currency="EUR", monthly_burn=1, renewal_90d=0,
                                            active_contract_count=1)  # fmt: skip
            with self.assertRaises(ValidationError):
                CostSnapshot.objects.filter(pk=self.snapshot.pk).update(monthly_burn=0)
            with self.assertRaises(ProtectedError):
                CostSnapshot.objects.get(pk=self.snapshot.pk).delete()
            with self.assertRaises(ProtectedError):
                CostSnapshot.objects.all().delete()
        self.assertEqual(CostSnapshot.objects.get().monthly_burn, Decimal("5.00"))
