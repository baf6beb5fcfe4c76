"""The Contracts panel caps its rows: a device reached by hundreds of contracts costs what one reached by three does."""

import datetime
from decimal import Decimal
import re

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.template import Context
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import TestCase

from nautobot_contracts.filters import ContractAssignmentFilterSet
from nautobot_contracts.models import Contract, ContractAssignment
from nautobot_contracts.services import coverage
from nautobot_contracts.template_content import MAX_ROWS, ContractCoveragePanel
from tests import factories
from tests.pinning import pin_today

AS_OF = datetime.date(2026, 6, 15)


def bulk_contracts(provider, names, status, contract_type):
    """Contracts for 2026 (active on AS_OF when their status is Active), written in one statement."""
    return Contract.objects.bulk_create(
        Contract(
            name=name,
            provider=provider,
            status=status,
            contract_type=contract_type,
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2026, 12, 31),
            recurring_cost=Decimal("10.00"),
            billing_period="monthly",
            currency="USD",
        )
        for name in names
    )


def bulk_assign(contracts, target):
    content_type = ContentType.objects.get_for_model(target)
    ContractAssignment.objects.bulk_create(
        ContractAssignment(contract=contract, assigned_object_type=content_type, assigned_object_id=target.pk)
        for contract in contracts
    )


class PanelCapTest(TestCase):
    """300 contracts reach `busy` (100 direct and covering, 100 direct and expired, 100 covering via its site)."""

    @classmethod
    def setUpTestData(cls):
        cls.site = factories.make_location("Cap site")
        cls.busy = factories.make_device("busy-dev", location=cls.site)
        cls.quiet = factories.make_device("quiet-dev", location=factories.make_location("Quiet site"))
        provider = factories.ServiceProviderFactory(name="Cap provider")
        active = factories.status_for(Contract, "Active")
        expired = factories.status_for(Contract, "Expired")
        bulk_assign(bulk_contracts(provider, [f"C{i:03d}" for i in range(0, 300, 3)], active, "support"), cls.busy)
        bulk_assign(bulk_contracts(provider, [f"C{i:03d}" for i in range(1, 300, 3)], expired, "support"), cls.busy)
        bulk_assign(bulk_contracts(provider, [f"C{i:03d}" for i in range(2, 300, 3)], active, "maintenance"), cls.site)
        # The quiet device: one of each kind.
        bulk_assign(bulk_contracts(provider, ["Q-direct"], active, "support"), cls.quiet)
        bulk_assign(bulk_contracts(provider, ["Q-expired"], expired, "support"), cls.quiet)
        bulk_assign(bulk_contracts(provider, ["Q-site"], active, "warranty"), cls.quiet.location)

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        pin_today(self, AS_OF)

    def render(self, device):
        request = RequestFactory().get("/")
        request.user = self.user
        with CaptureQueriesContext(connection) as queries:
            html = ContractCoveragePanel().render(Context({"object": device, "request": request}))
        return len(queries), html

    def test_coverage_page_most_relevant_first(self):
        entries, total = coverage.coverage_page(self.busy, MAX_ROWS, as_of=AS_OF)
        self.assertEqual(total, 300)
        self.assertEqual(len(entries), 25)
        # Covering before not covering, direct before inherited, then by name: the direct support contracts.
        self.assertEqual([entry.contract.name for entry in entries], [f"C{i:03d}" for i in range(0, 75, 3)])
        self.assertTrue(all(entry.covers and entry.is_direct for entry in entries))
        # The full list keeps the same order: 100 direct covering, 100 via the site, then the 100 expired.
        full = coverage.coverage_for(self.busy, as_of=AS_OF)
        self.assertEqual([entry.contract.name for entry in full[:25]], [entry.contract.name for entry in entries])
        self.assertEqual([entry.source for entry in full[99:101]], ["direct", "location"])
        self.assertEqual((full[199].covers, full[200].covers), (True, False))
        self.assertEqual((len(full), full[-1].contract.name), (300, "C298"))

    def test_quiet_device_is_not_capped(self):
        entries, total = coverage.coverage_page(self.quiet, MAX_ROWS, as_of=AS_OF)
        self.assertEqual([entry.contract.name for entry in entries], ["Q-direct", "Q-site", "Q-expired"])
        self.assertEqual(total, 3)
        _queries, html = self.render(self.quiet)
        self.assertNotIn("nautobot-contracts-all-assignments", html)

    def test_busy_panel_capped_with_link(self):
        self.render(self.busy)  # warm content types and permissions
        self.render(self.quiet)
        busy_queries, html = self.render(self.busy)
        quiet_queries, _ = self.render(self.quiet)
        # One query more (the count behind "of 300"), whatever the number of contracts.
        self.assertEqual(busy_queries, quiet_queries + 1)
        self.assertLessEqual(busy_queries, 6)
        self.assertEqual(len(re.findall(r"<tr[ >]", html)) - 1, 25)  # minus the header row
        self.assertIn("Showing the 25 most relevant of 300 contracts.", html)
        link = f"{reverse('plugins:nautobot_contracts:contractassignment_list')}?assigned_object_id={self.busy.pk}"
        self.assertIn(f'href="{link}"', html)
        self.assertIn("C072", html)
        self.assertNotIn("C075", html)

    def test_link_lists_the_direct_assignments(self):
        self.add_permissions("nautobot_contracts.view_contractassignment")
        link = f"{reverse('plugins:nautobot_contracts:contractassignment_list')}?assigned_object_id={self.busy.pk}"
        self.assertHttpStatus(self.client.get(link), 200)
        # The filter behind the link: the 200 assignments to the device itself (the site's 100 are on its page).
        listed = ContractAssignmentFilterSet({"assigned_object_id": [str(self.busy.pk)]}).qs
        self.assertEqual(listed.count(), 200)
        self.assertTrue(listed.filter(contract__name="C297").exists())
        self.assertFalse(listed.filter(contract__name="C002").exists())
