"""app-config-schema.json documents exactly the app's settings, accepts their defaults and refuses bad values."""

from django.conf import settings
from django.test import SimpleTestCase

from development import app_config_schema
from nautobot_contracts import NautobotContractsConfig

DEFAULTS = NautobotContractsConfig.default_settings


class AppConfigSchemaTest(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = app_config_schema.load_schema()

    def test_schema_lists_every_setting_with_its_default(self):
        properties = self.schema["properties"]
        self.assertEqual(set(properties), set(DEFAULTS))
        for name, default in DEFAULTS.items():
            self.assertEqual(properties[name]["default"], default, name)
            self.assertTrue(properties[name].get("description"), name)

    def test_default_settings_are_valid(self):
        self.assertEqual(app_config_schema.errors(dict(DEFAULTS), self.schema), [])

    def test_the_test_configuration_is_valid(self):
        # Nautobot merged the defaults into PLUGINS_CONFIG; the development config adds its own values.
        self.assertEqual(app_config_schema.errors(settings.PLUGINS_CONFIG["nautobot_contracts"], self.schema), [])

    def test_bad_values_are_named(self):
        cases = {
            "renewal_urgent_days": "14",
            "renewal_window_days": 0,
            "default_renewal_term_months": 601,
            "coverage_contract_types": ["support", "bogus"],
            "assignable_models": ["dcim"],
            "attachment_storage": {"OPTIONS": {}},
            "attachment_max_size_bytes": -1,
            "reporting_currency": "dollars",
        }
        for name, value in cases.items():
            with self.subTest(name):
                problems = app_config_schema.errors({**DEFAULTS, name: value}, self.schema)
                self.assertEqual(len(problems), 1, problems)
                self.assertTrue(problems[0].startswith(name), problems)

    def test_unknown_setting_is_refused(self):
        problems = app_config_schema.errors({**DEFAULTS, "renewal_urgnet_days": 7}, self.schema)
        self.assertEqual(len(problems), 1)
        self.assertIn("renewal_urgnet_days", problems[0])
