"""Schemathesis over every operation of the app's REST API, in-process through WSGI: no input answers 5xx.

Bounded so it runs with the normal suite: a few derandomized examples per operation, no shrinking, no example
database. Select it alone with `pytest -m schemathesis`.
"""

from collections import Counter

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from nautobot.apps.testing import APITestCase
import pytest
import schemathesis

from tests import factories

EXAMPLES_PER_OPERATION = 3
PREFIX = "/plugins/contracts/"  # schema paths start after the /api server URL


def app_schema():
    """The app's part of /api/swagger.json, generated as Nautobot serves it."""
    generator = SchemaGenerator(patterns=[path("api/plugins/contracts/", include("nautobot_contracts.api.urls"))])
    return generator.get_schema(request=None, public=True)


@pytest.mark.schemathesis
class SchemathesisTest(APITestCase):
    """Every operation under /api/plugins/contracts/, called with schema-generated input as a superuser."""

    @classmethod
    def setUpTestData(cls):
        contract = factories.ContractFactory(name="Fuzzed")
        factories.InvoiceFactory(contract=contract)
        factories.ContractAssignmentFactory(contract=contract, assigned_object=factories.make_tenant())
        factories.CostSnapshotFactory()
        factories.ExchangeRateFactory()

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        # A real WSGI request closes "old" connections when it ends, which would close the test's transaction;
        # Django's test client disconnects the same receivers.
        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
            self.addCleanup(signal.connect, close_old_connections)

    def test_no_server_errors(self):
        schema = schemathesis.openapi.from_dict(app_schema())
        app = WSGIHandler()
        headers = {"Authorization": f"Token {self.token.key}", "Accept": "application/json"}
        server_errors, statuses = [], Counter()
        operations = [result.ok() for result in schema.get_all_operations()]
        operations = [operation for operation in operations if operation.path.startswith(PREFIX)]
        self.assertGreaterEqual(len(operations), 70)

        for operation in operations:
            fuzz(operation, app, headers, server_errors, statuses)()

        # Every operation was called, and input got past validation often enough to mean something.
        self.assertGreaterEqual(sum(statuses.values()), len(operations), statuses)
        self.assertTrue(statuses[200] and statuses[400], statuses)
        self.assertEqual(server_errors, [], f"{len(server_errors)} server errors over {len(operations)} operations")


def fuzz(operation, app, headers, server_errors, statuses):
    """A Hypothesis test calling `operation` with generated cases, recording every 5xx (and every app exception)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        label = f"{operation.method.upper()} {operation.path}"
        try:
            response = case.call(app=app, base_url="http://testserver/api", headers=headers)
        except Exception as error:  # noqa: BLE001 (a crash in the app is the finding)
            server_errors.append(f"{label} raised {error!r}: {case.as_curl_command()}")
            return
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            server_errors.append(f"{label} {response.status_code}: {case.as_curl_command()} {response.text[:300]}")

    return call
