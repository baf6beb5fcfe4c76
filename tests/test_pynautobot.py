"""The REST API through the real `pynautobot` client against a live server.

The live server runs in a thread with its own database connection, so it only sees committed rows: this is a
LiveServerTestCase. Django's TransactionTestCase would flush every table afterwards, wiping the rows migrations
created (statuses, roles, ...) from the reused test database and breaking whatever runs next. So the flush is
skipped: the test deletes exactly what it created, and a final cleanup checks that every table holds as many rows
as before.
"""

from decimal import Decimal

from django.apps import apps
from django.test import LiveServerTestCase
from nautobot.extras.models import ObjectChange
from nautobot.users.models import Token, User
import pynautobot
from pynautobot.core.query import RequestError

from nautobot_contracts.models import Contract, ServiceProvider
from tests import factories

PREFIX = "pynautobot-test-"


def row_counts():
    """Rows per concrete model table (proxies and unmanaged models share or lack tables)."""
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


class PynautobotTest(LiveServerTestCase):
    databases = {"default", "job_logs"}

    def _fixture_teardown(self):
        """Do not flush: the cleanups below remove this test's rows and nothing else."""

    def setUp(self):
        super().setUp()
        # Registered first, so it runs after every other cleanup.
        self.addCleanup(self.assert_row_counts_unchanged, row_counts())
        self.user = User.objects.create_user(username=f"{PREFIX}user", is_superuser=True)
        self.addCleanup(self.remove_test_rows)
        self.token = Token.objects.create(user=self.user)
        self.acme = factories.ServiceProviderFactory(name=f"{PREFIX}Acme")
        self.globex = factories.ServiceProviderFactory(name=f"{PREFIX}Globex")
        self.nautobot = pynautobot.api(self.live_server_url, token=self.token.key)

    def assert_row_counts_unchanged(self, before):
        after = row_counts()
        changed = {label: (count, after.get(label)) for label, count in before.items() if after.get(label) != count}
        self.assertEqual(changed, {}, "tables whose row count the test changed: (before, after)")

    def remove_test_rows(self):
        Contract.objects.filter(provider__name__startswith=PREFIX).delete()
        ServiceProvider.objects.filter(name__startswith=PREFIX).delete()
        ObjectChange.objects.filter(user_name=self.user.username).delete()
        self.user.delete()  # and its token

    def contract_fields(self, name, provider, **extra):
        return {
            "name": name,
            "provider": provider,
            "status": {"name": "Active"},
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "recurring_cost": "1200.00",
            "billing_period": "annual",
            "currency": "usd",
            **extra,
        }

    def test_contract_crud(self):
        contracts = self.nautobot.plugins.contracts.contracts

        created = contracts.create(self.contract_fields("Support", str(self.acme.pk), notice_period_days=30))
        self.assertEqual(created.name, "Support")
        self.assertEqual(created.currency, "USD")
        self.assertEqual(created.monthly_cost, "100.00")
        self.assertEqual(str(created.provider.id), str(self.acme.pk))
        contracts.create(self.contract_fields("Colo", {"name": self.globex.name}, billing_period="monthly"))
        self.assertEqual(Contract.objects.filter(provider__name__startswith=PREFIX).count(), 2)

        self.assertEqual(sorted(c.name for c in contracts.all()), ["Colo", "Support"])
        self.assertEqual([c.name for c in contracts.filter(provider=self.globex.name)], ["Colo"])
        self.assertEqual([c.name for c in contracts.filter(provider=str(self.acme.pk))], ["Support"])
        self.assertEqual([c.name for c in contracts.filter(q="colo")], ["Colo"])

        fetched = contracts.get(created.id)
        fetched.recurring_cost = "2400.00"
        fetched.description = "Renegotiated"
        self.assertTrue(fetched.save())
        contract = Contract.objects.get(pk=created.id)
        self.assertEqual((contract.recurring_cost, contract.description), (Decimal("2400.00"), "Renegotiated"))
        self.assertEqual(contracts.get(created.id).monthly_cost, "200.00")

        updated = contracts.update([{"id": created.id, "cost_center": "CC-1"}])
        self.assertEqual(updated[0].cost_center, "CC-1")

        self.assertTrue(contracts.get(created.id).delete())
        self.assertFalse(Contract.objects.filter(pk=created.id).exists())
        self.assertEqual([c.name for c in contracts.all()], ["Colo"])

    def test_sparse_fields_and_read_only_snapshots(self):
        contracts = self.nautobot.plugins.contracts.contracts
        contracts.create(self.contract_fields("Support", str(self.acme.pk)))
        rows = list(contracts.filter(fields="name,monthly_cost"))
        self.assertEqual([dict(row) for row in rows], [{"name": "Support", "monthly_cost": "100.00"}])

        with self.assertRaises(RequestError) as refused:
            self.nautobot.plugins.contracts.cost_snapshots.create(
                snapshot_date="2026-01-01", currency="USD", monthly_burn="1", renewal_90d="0", active_contract_count=1
            )
        self.assertEqual(refused.exception.req.status_code, 405)

    def test_validation_error_reaches_the_client(self):
        with self.assertRaises(RequestError) as refused:
            self.nautobot.plugins.contracts.contracts.create(
                self.contract_fields("Backwards", str(self.acme.pk), start_date="2026-12-31", end_date="2026-01-01")
            )
        self.assertEqual(refused.exception.req.status_code, 400)
        self.assertIn("end_date", refused.exception.req.json())
