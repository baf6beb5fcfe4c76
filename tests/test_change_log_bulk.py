"""Bulk change logging (compat.log_changes_in_bulk) writes what Nautobot's own per-object change logging would.

The CSV import and the alert-raising Jobs log thousands of objects at once; the records and webhook payloads must be
byte-for-byte what core's to_objectchange() (serialize_object + serialize_object_v2 at depth 1) stores, only
computed in one pass. Each test compares with core's functions on the same objects.
"""

import datetime
import json
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.change_logging import web_request_context
from nautobot.apps.events import EventBroker, deregister_event_broker, register_event_broker
from nautobot.apps.models import serialize_object, serialize_object_v2
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.extras.models import CustomField, Job as JobModel, JobHook, ObjectChange, Tag, Webhook
from nautobot.users.models import User

from nautobot_contracts.api.serializers import ContractSerializer
from nautobot_contracts.compat import log_changes_in_bulk, serialize_objects
from nautobot_contracts.models import Contract, ContractAlert
from nautobot_contracts.services.alerts import CHANGE_LOG_PREFETCH
from tests.factories import ContractFactory, ServiceProviderFactory, make_tenant

CONTRACT_PREFETCH = ("provider", "tenant", "status")


def as_stored(data):
    """`data` as a JSONField gives it back (dates, UUIDs and decimals as text)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


class ChangeLogFixtures:
    """Contracts sharing a provider and status, some with a tenant; the first with a tag and a custom field value."""

    def make_contracts(self, count=4):
        provider = ServiceProviderFactory(name="Bulk Log Provider")
        tenant = make_tenant("Bulk Log Tenant")
        field = CustomField.objects.create(key="po_owner", label="PO owner")
        field.content_types.add(ContentType.objects.get_for_model(Contract))
        tag = Tag.objects.create(name="Bulk Log Tag")
        tag.content_types.add(ContentType.objects.get_for_model(Contract))
        contracts = [
            ContractFactory(name=f"Bulk log {n}", provider=provider, tenant=tenant if n % 2 else None)
            for n in range(count)
        ]
        contracts[0].tags.add(tag)
        contracts[0]._custom_field_data = {"po_owner": "Ana"}
        contracts[0].save()
        return [Contract.objects.get(pk=contract.pk) for contract in contracts]


class SerializeObjectsTest(ChangeLogFixtures, TestCase):
    """serialize_objects() is core's serialize_object() for many instances at once."""

    def test_same_as_core_for_each_instance(self):
        contracts = self.make_contracts()
        self.assertEqual(serialize_objects(contracts), [serialize_object(contract) for contract in contracts])


class LogChangesInBulkTest(ChangeLogFixtures, TestCase):
    """The stored records equal what core stores for each object, in a number of queries that does not grow."""

    def setUp(self):
        super().setUp()
        self.actor = User.objects.create(username="bulk-logger")

    def log(self, created, prefetch):
        with web_request_context(self.actor, context_detail="bulk log test"):
            return log_changes_in_bulk(created=created, prefetch=prefetch)

    def assert_records_match_core(self, objects, changes):
        self.assertEqual(len(changes), len(objects))
        records = ObjectChange.objects.filter(pk__in=changes)
        stored = {record.changed_object_id: record for record in records}
        for obj in objects:
            change = stored[obj.pk]
            self.assertEqual(change.object_data, as_stored(serialize_object(obj)))
            self.assertEqual(change.object_data_v2, as_stored(serialize_object_v2(obj)))
            self.assertEqual(change.user, self.actor)

    def test_contract_records_match_core(self):
        contracts = self.make_contracts()
        changes = self.log([Contract.objects.get(pk=c.pk) for c in contracts], CONTRACT_PREFETCH)
        self.assert_records_match_core(contracts, changes)
        # The related objects shared by every contract are serialized in full in each record, not as references.
        records = ObjectChange.objects.filter(pk__in=changes)
        self.assertEqual({record.object_data_v2["provider"]["name"] for record in records}, {"Bulk Log Provider"})

    def test_alert_records_match_core(self):
        contracts = self.make_contracts()
        alerts = ContractAlert.objects.bulk_create(
            [
                ContractAlert(
                    kind="renewal_notice",
                    severity="soon",
                    state="open",
                    contract=contract,
                    occasion=datetime.date(2026, 12, 31),
                    due_date=datetime.date(2026, 12, 1),
                    message=f"notice for {contract.name}",
                    first_seen=datetime.date(2026, 11, 20),
                    last_seen=datetime.date(2026, 11, 20),
                )
                for contract in contracts
            ]
        )
        changes = self.log(list(ContractAlert.objects.filter(pk__in=[a.pk for a in alerts])), CHANGE_LOG_PREFETCH)
        self.assert_records_match_core(list(ContractAlert.objects.filter(pk__in=[a.pk for a in alerts])), changes)

    def test_query_count_does_not_grow_with_objects(self):
        contracts = self.make_contracts(count=10)
        counts = []
        # The first call also fills Nautobot's process-wide caches (content types, custom field keys).
        for batch in (contracts[:1], contracts[1:4], contracts[4:]):
            fresh = list(Contract.objects.filter(pk__in=[c.pk for c in batch]))
            with CaptureQueriesContext(connection) as queries:
                self.log(fresh, CONTRACT_PREFETCH)
            counts.append(len(queries))
        # Twice the objects, no more queries (a process-wide cache may be refilled once in between): the prefetches,
        # the tags, the insert, the webhook and job hook lookups, and the savepoints around them.
        self.assertLessEqual(counts[2], counts[1])
        self.assertLessEqual(counts[2], 8)

    def test_records_match_core_across_batches(self):
        contracts = self.make_contracts(count=5)
        fresh = list(Contract.objects.filter(pk__in=[c.pk for c in contracts]))
        with CaptureQueriesContext(connection) as queries:
            with web_request_context(self.actor, context_detail="batched"):
                changes = log_changes_in_bulk(created=fresh, prefetch=CONTRACT_PREFETCH, batch_size=2)
        self.assert_records_match_core(contracts, changes)
        inserts = [query for query in queries if query["sql"].startswith('INSERT INTO "extras_objectchange"')]
        self.assertEqual(len(inserts), 3)  # 2 + 2 + 1
        self.assertEqual(len(set(ObjectChange.objects.filter(pk__in=changes).values_list("request_id"))), 1)

    def test_nothing_left_for_the_commit_without_subscribers(self):
        contracts = self.make_contracts(count=2)
        with self.captureOnCommitCallbacks() as callbacks, web_request_context(self.actor, context_detail="quiet"):
            log_changes_in_bulk(created=contracts, prefetch=CONTRACT_PREFETCH)
        # web_request_context registers core's own end-of-request dispatch; the bulk log adds none of its own.
        self.assertFalse([callback for callback in callbacks if "log_changes_in_bulk" in callback.__qualname__])


class NestedRepresentationMemoTest(ChangeLogFixtures, APITestCase):
    """At ?depth=1 each related object is serialized once per response; the response is unchanged by it."""

    def test_depth_1_list_rows_equal_their_detail_views(self):
        contracts = self.make_contracts()
        self.add_permissions(
            "nautobot_contracts.view_contract", "nautobot_contracts.view_serviceprovider", "extras.view_status",
            "tenancy.view_tenant",
        )  # fmt: skip
        url = reverse("plugins-api:nautobot_contracts-api:contract-list")
        listed = self.client.get(f"{url}?depth=1&limit=0&name__isw=Bulk log", **self.header).json()["results"]
        self.assertEqual(len(listed), len(contracts))
        for row in listed:
            detail = self.client.get(f"{url}{row['id']}/?depth=1", **self.header).json()
            self.assertEqual(row, detail)
        self.assertEqual({row["provider"]["name"] for row in listed}, {"Bulk Log Provider"})

    def test_each_row_gets_its_own_copy_of_a_shared_related_object(self):
        contracts = self.make_contracts()
        data = ContractSerializer(contracts, many=True, context={"request": None, "depth": 1}).data
        data[0]["provider"]["name"] = "changed in one row"
        self.assertEqual(data[1]["provider"]["name"], "Bulk Log Provider")


class _CapturingBroker(EventBroker):
    """An event broker that keeps what it is given."""

    def __init__(self):
        super().__init__(include_topics=["nautobot.create.nautobot_contracts.*"])
        self.published = []

    def publish(self, *, topic, payload):
        self.published.append((topic, json.loads(payload)))


class DispatchTest(ChangeLogFixtures, TestCase):
    """What core's end-of-request dispatch does for each change happens for bulk-logged ones once they commit."""

    def test_events_for_each_created_object_and_no_job_hook_lookup_without_hooks(self):
        contracts = self.make_contracts(count=3)
        broker = _CapturingBroker()
        register_event_broker(broker)
        self.addCleanup(deregister_event_broker, broker)
        actor = User.objects.create(username="dispatcher")
        with mock.patch("nautobot.apps.jobs.enqueue_job_hooks") as job_hooks:
            with self.captureOnCommitCallbacks(execute=True), web_request_context(actor, context_detail="dispatch"):
                log_changes_in_bulk(created=contracts, prefetch=CONTRACT_PREFETCH)
                self.assertEqual(broker.published, [])  # nothing before the commit
        # No job hook on contracts: core's per-change lookup (a cache read each) is skipped.
        job_hooks.assert_not_called()
        self.assertEqual(
            [(topic, payload["postchange"]["name"]) for topic, payload in broker.published],
            [("nautobot.create.nautobot_contracts.contract", contract.name) for contract in contracts],
        )
        self.assertEqual({payload["context"]["user_name"] for _, payload in broker.published}, {"dispatcher"})

    def test_job_hooks_enqueued_for_each_created_object(self):
        contracts = self.make_contracts(count=3)
        hook = JobHook.objects.create(name="On contract create", job=JobModel.objects.first(), type_create=True)
        hook.content_types.add(ContentType.objects.get_for_model(Contract))
        actor = User.objects.create(username="hooked")
        with mock.patch("nautobot.apps.jobs.enqueue_job_hooks", return_value=(False, None)) as job_hooks:
            with self.captureOnCommitCallbacks(execute=True), web_request_context(actor, context_detail="hooks"):
                changes = log_changes_in_bulk(created=contracts, prefetch=CONTRACT_PREFETCH)
        self.assertEqual([call.args[0].pk for call in job_hooks.call_args_list], changes)
        self.assertEqual(list(job_hooks.call_args_list[0].kwargs["jobhook_queryset"]), [hook])

    def test_webhooks_for_every_object_across_batches(self):
        contracts = self.make_contracts(count=3)
        webhook = Webhook.objects.create(
            name="Contract created", type_create=True, payload_url="http://127.0.0.1:9/hook", enabled=True
        )
        webhook.content_types.add(ContentType.objects.get_for_model(Contract))
        actor = User.objects.create(username="webhooked")
        with mock.patch("nautobot.extras.tasks.process_webhook.apply_async") as enqueue:
            with self.captureOnCommitCallbacks(execute=True), web_request_context(actor, context_detail="hooks"):
                log_changes_in_bulk(created=contracts, prefetch=CONTRACT_PREFETCH, batch_size=2)
                enqueue.assert_not_called()  # nothing before the commit
        sent = [call.kwargs["args"] for call in enqueue.call_args_list]
        self.assertEqual(sorted(args[1]["name"] for args in sent), sorted(contract.name for contract in contracts))
        self.assertEqual(
            {(args[0], args[2], args[3], args[5]) for args in sent}, {(webhook.pk, "contract", "create", "webhooked")}
        )
