"""Each Nautobot internal the app uses through compat.py still exists with the shape the app relies on."""

import inspect

from django.test import SimpleTestCase
from nautobot.apps.testing import TestCase
from nautobot.extras.models import JobResult

from nautobot_contracts import compat


class CompatTest(SimpleTestCase):
    def test_job_log_fields(self):
        for name in ("JOB_LOG_MAX_ABSOLUTE_URL_LENGTH", "JOB_LOG_MAX_GROUPING_LENGTH", "JOB_LOG_MAX_LOG_OBJECT_LENGTH"):
            self.assertIsInstance(getattr(compat, name), int, name)
            self.assertGreater(getattr(compat, name), 0, name)
        fields = {field.name for field in compat.JobLogEntry._meta.get_fields()}
        self.assertLessEqual(
            {"job_result", "log_level", "grouping", "message", "created", "log_object", "absolute_url"}, fields
        )
        self.assertIn(compat.job_logs_database(), (None, "job_logs"))
        self.assertTrue(JobResult().use_job_logs_db)  # set in __init__; log_lines reads it as JobResult.log() does

    def test_change_context_state(self):
        self.assertIsNone(compat.change_context_state.get())

    def test_representation_helpers(self):
        self.assertEqual(
            list(inspect.signature(compat.get_brief_representation).parameters)[:2], ["instance", "request"]
        )
        self.assertEqual(list(inspect.signature(compat.get_nested_serializer_depth).parameters), ["serializer"])
        self.assertEqual(
            list(inspect.signature(compat.return_nested_serializer_data_based_on_depth).parameters),
            ["serializer", "depth", "obj", "obj_related_field", "obj_related_field_name"],
        )

    def test_filter_backends(self):
        for backend in (compat.NautobotFilterBackend, compat.NautobotOrderingFilter):
            self.assertTrue(callable(getattr(backend, "filter_queryset", None)), backend)
        self.assertTrue(callable(getattr(compat.NautobotFilterBackend, "get_filterset_kwargs", None)))

    def test_is_truthy_and_csv_no_object(self):
        self.assertTrue(compat.is_truthy("true"))
        self.assertFalse(compat.is_truthy("false"))
        with self.assertRaises(ValueError):
            compat.is_truthy("maybe")
        self.assertIsInstance(compat.CSV_NO_OBJECT, str)
        self.assertTrue(compat.CSV_NO_OBJECT)

    def test_custom_fields_data_field(self):
        # api.performance subclasses it and overrides `custom_field_keys`, which to_representation() reads.
        self.assertTrue(isinstance(inspect.getattr_static(compat.CustomFieldsDataField, "custom_field_keys"), property))
        self.assertIn("custom_field_keys", inspect.getsource(compat.CustomFieldsDataField.to_representation))

    def test_metadata_lookups_read_once(self):
        """The lookups metadata_lookups_read_once() memoizes keep the one-argument shape it wraps."""
        from nautobot.core.utils.cache import get_request_cache  # pylint: disable=import-outside-toplevel
        from nautobot.data_validation.models import ValidationRuleManager  # pylint: disable=import-outside-toplevel
        from nautobot.extras.models import GitRepository  # pylint: disable=import-outside-toplevel

        for method in (
            ValidationRuleManager.get_for_model,
            ValidationRuleManager.get_enabled_for_model,
            type(GitRepository.objects).get_for_provided_contents,
        ):
            self.assertEqual(len(inspect.signature(method).parameters), 2, method)
        self.assertIsNone(get_request_cache())
        with compat.metadata_lookups_read_once():
            self.assertEqual(get_request_cache(), {})  # core's in-process scope is open inside the block
        self.assertIsNone(get_request_cache())

    def test_job_hook_and_webhook_models(self):
        self.assertLessEqual({"type_create", "type_update", "enabled"}, {f.name for f in compat.JobHook._meta.fields})
        self.assertLessEqual({"type_create", "type_update", "enabled"}, {f.name for f in compat.Webhook._meta.fields})

    def test_slugify_is_the_one_construct_natural_slug_applies(self):
        """api.performance.slug_part calls it directly for ASCII values, skipping core's emoji pass."""
        from nautobot.apps.models import construct_natural_slug  # pylint: disable=import-outside-toplevel

        from nautobot_contracts.api.performance import slug_part  # pylint: disable=import-outside-toplevel

        self.assertIn("slugify(", inspect.getsource(construct_natural_slug))
        values = [
            "Bench contract 12", "ACME, Inc. / EMEA", "already-a-slug", "  spaced  out  ", "a--b__c", "#1 * 0",
            "Ünïcödé Tëlco", "שירות רשת", "Fibre 🚀 backbone", "1\ufe0f\u20e3 keycap", "\0", "", "Mixed CASE-Name_9",
        ]  # fmt: skip

        def outcome(function, value):
            try:
                return function(value)
            except TypeError as error:  # core's emoji pass refuses some sequences (a keycap); the model falls back
                return type(error)

        for value in values:
            self.assertEqual(
                outcome(slug_part, value), outcome(lambda v: construct_natural_slug([v]), value), repr(value)
            )
        self.assertEqual(compat.slugify("ACME, Inc."), construct_natural_slug(["ACME, Inc."]))

    def test_event_brokers_registered(self):
        from nautobot.apps.events import (  # pylint: disable=import-outside-toplevel
            EventBroker,
            deregister_event_broker,
            register_event_broker,
        )

        class Broker(EventBroker):
            def publish(self, *, topic, payload):
                """Publishes nothing."""

        before = compat.event_brokers_registered()
        broker = Broker()
        register_event_broker(broker)
        try:
            self.assertTrue(compat.event_brokers_registered())
        finally:
            deregister_event_broker(broker)
        self.assertEqual(compat.event_brokers_registered(), before)

    def test_values_as_stored_equal_the_json_round_trip(self):
        """serialize_objects() skips core's JSON text; every kind of value comes out as the round trip gives it."""
        import datetime  # pylint: disable=import-outside-toplevel
        from decimal import Decimal  # pylint: disable=import-outside-toplevel
        import json  # pylint: disable=import-outside-toplevel
        import uuid  # pylint: disable=import-outside-toplevel

        from django.core.serializers.json import DjangoJSONEncoder  # pylint: disable=import-outside-toplevel
        from django.utils.translation import gettext_lazy  # pylint: disable=import-outside-toplevel

        utc = datetime.timezone.utc
        values = [
            None, True, 0, -7, 1.5, "text", "ünï 🚀", Decimal("-0.00"), Decimal("1234.5600"),
            datetime.date(2026, 12, 3), datetime.datetime(2026, 12, 3, 6, 13, 50, 123456, tzinfo=utc),
            datetime.datetime(2026, 12, 3, 6, 13, 50), datetime.time(23, 59, 1, 999999),
            datetime.timedelta(days=2, seconds=5),
            uuid.UUID("f0f0f0f0-f0f0-4f0f-8f0f-f0f0f0f0f0f0"), gettext_lazy("Active"),
            {"nested": {"a": [1, Decimal("2.5")], 3: "int key", True: "bool key", None: "null key"}}, ("a", 1),
        ]  # fmt: skip
        encoder = DjangoJSONEncoder()
        for value in values:
            self.assertEqual(
                compat._as_stored(value, encoder),  # pylint: disable=protected-access
                json.loads(json.dumps(value, cls=DjangoJSONEncoder)),
                repr(value),
            )


class ModelLookupsReadOnceTest(TestCase):
    def test_model_lookups_read_once_per_model(self):
        """Computed fields and relationships, looked up with an instance, are read once per model inside the scope."""
        from django.contrib.contenttypes.models import ContentType  # pylint: disable=import-outside-toplevel
        from nautobot.extras.models import ComputedField, Relationship  # pylint: disable=import-outside-toplevel

        from nautobot_contracts.models import Contract, ServiceProvider  # pylint: disable=import-outside-toplevel

        for manager in (ComputedField.objects, Relationship.objects):
            self.assertEqual(list(inspect.signature(manager.get_for_model).parameters)[0], "model")
        content_type = ContentType.objects.get_for_model(Contract)
        ComputedField.objects.create(
            content_type=content_type, key="doubled", label="Doubled", template="{{ obj.name }}"
        )
        first, second = Contract(name="a"), Contract(name="b")
        with compat.metadata_lookups_read_once():
            fields = ComputedField.objects.get_for_model(first)
            self.assertIs(ComputedField.objects.get_for_model(second), fields)
            self.assertEqual([field.key for field in fields], ["doubled"])
            self.assertIs(Relationship.objects.get_for_model(first), Relationship.objects.get_for_model(second))
            self.assertIs(Relationship.objects.get_for_model(model=second), Relationship.objects.get_for_model(first))
            self.assertIsNot(
                Relationship.objects.get_for_model(ServiceProvider), Relationship.objects.get_for_model(first)
            )
            # Any other call shape is Nautobot's own, unmemoized.
            self.assertIsNot(ComputedField.objects.get_for_model(first, get_queryset=False), fields)
        self.assertIsNot(ComputedField.objects.get_for_model(first), ComputedField.objects.get_for_model(first))
