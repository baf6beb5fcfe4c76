"""The app is installed, its URLs resolve and its API root answers as Nautobot's does."""

from django.apps import apps
from django.conf import settings
from django.urls import reverse
from nautobot.apps.testing import APITestCase

import nautobot_contracts


class AppInstalledTest(APITestCase):
    """The plugin registry, URLs and API root."""

    def test_app_is_installed(self):
        self.assertIn("nautobot_contracts", settings.PLUGINS)
        config = apps.get_app_config("nautobot_contracts")
        self.assertEqual(config.base_url, "contracts")
        self.assertEqual(config.version, nautobot_contracts.__version__)
        self.assertEqual(settings.PLUGINS_CONFIG["nautobot_contracts"]["reporting_currency"], "USD")

    def test_api_root_url_resolves(self):
        self.assertEqual(reverse("plugins-api:nautobot_contracts-api:api-root"), "/api/plugins/contracts/")

    def test_api_root_authenticated(self):
        response = self.client.get("/api/plugins/contracts/", **self.header)
        self.assertHttpStatus(response, 200)

    def test_api_root_anonymous(self):
        response = self.client.get("/api/plugins/contracts/")
        self.assertHttpStatus(response, 403)
