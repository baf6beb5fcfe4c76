"""Each Nautobot internal the app uses through compat.py still exists with the shape the app relies on."""

import inspect

from django.test import SimpleTestCase
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

    def test_validation_lookups_read_once(self):
        """The lookups validation_lookups_read_once() memoizes keep the one-argument shape it wraps."""
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
        with compat.validation_lookups_read_once():
            self.assertEqual(get_request_cache(), {})  # core's in-process scope is open inside the block
        self.assertIsNone(get_request_cache())

    def test_job_hook_and_webhook_models(self):
        self.assertLessEqual({"type_create", "type_update", "enabled"}, {f.name for f in compat.JobHook._meta.fields})
        self.assertLessEqual({"type_create", "type_update", "enabled"}, {f.name for f in compat.Webhook._meta.fields})
