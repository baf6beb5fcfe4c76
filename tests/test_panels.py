"""The Contracts panel on core detail pages: content, restriction to the viewer, and a bounded number of queries."""

import datetime

from django.db import connection
from django.template import Context
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import TestCase
from nautobot.virtualization.models import Cluster, ClusterType, VirtualMachine

from nautobot_contracts.models import Contract
from nautobot_contracts.template_content import ContractCoveragePanel, template_extensions
from tests import factories


def this_year_contract(name, **kwargs):
    """A contract whose term contains today, so it is active whenever the tests run."""
    today = timezone.localdate()
    kwargs.setdefault("start_date", today - datetime.timedelta(days=30))
    kwargs.setdefault("end_date", today + datetime.timedelta(days=335))
    status = kwargs.pop("status", "Active")
    return factories.ContractFactory(name=name, status=factories.status_for(Contract, status), **kwargs)


class ContractsPanelTest(TestCase):
    """The panel on the Device page and the other core pages."""

    @classmethod
    def setUpTestData(cls):
        cls.region = factories.make_location("Panel region", location_type_name="Region")
        cls.site = factories.make_location("Panel site", parent=cls.region, location_type_name="Site")
        cls.rack = factories.make_rack("Panel rack", location=cls.site)
        cls.tenant = factories.make_tenant("Panel tenant", group=factories.make_tenant_group("Panel group"))
        cls.device = factories.make_device("panel-dev", rack=cls.rack, tenant=cls.tenant)
        cls.direct = this_year_contract("Direct support", notice_period_days=30)
        factories.ContractAssignmentFactory(contract=cls.direct, assigned_object=cls.device)
        cls.inherited = this_year_contract("Regional maintenance", contract_type="maintenance")
        factories.ContractAssignmentFactory(contract=cls.inherited, assigned_object=cls.region)
        cls.lapsed = this_year_contract("Lapsed direct", status="Expired")
        factories.ContractAssignmentFactory(contract=cls.lapsed, assigned_object=cls.device)

    def get_page(self, obj, view):
        response = self.client.get(reverse(view, kwargs={"pk": obj.pk}))
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def test_registered_models(self):
        self.assertEqual(
            sorted(extension.model for extension in template_extensions),
            sorted(
                [
                    "circuits.circuit",
                    "dcim.device",
                    "dcim.location",
                    "dcim.rack",
                    "tenancy.tenant",
                    "virtualization.virtualmachine",
                ]
            ),
        )

    def test_device_page(self):
        self.add_permissions("dcim.view_device", "nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contractassignment")
        content = self.get_page(self.device, "dcim:device")
        self.assertIn("CONTRACTS", content)
        self.assertIn(self.direct.get_absolute_url(), content)
        self.assertIn(self.inherited.get_absolute_url(), content)
        self.assertIn(self.lapsed.get_absolute_url(), content)
        self.assertIn(self.region.get_absolute_url(), content)  # "Location Panel region" source link
        notice = self.direct.end_date - datetime.timedelta(days=30)
        self.assertIn(notice.isoformat(), content)

    def test_rows(self):
        rows = self.render_rows(self.device, superuser=True)
        self.assertEqual(len(rows), 3)
        by_contract = {row["contract"]: row for row in rows}
        direct = next(row for name, row in by_contract.items() if "Direct support" in name)
        self.assertEqual(direct["source"], "Direct")
        self.assertEqual(direct["term_end"], self.direct.end_date.isoformat())
        self.assertEqual(direct["notice_deadline"], (self.direct.end_date - datetime.timedelta(days=30)).isoformat())
        inherited = next(row for name, row in by_contract.items() if "Regional maintenance" in name)
        self.assertIn("Location", inherited["source"])
        self.assertIn("Panel region", inherited["source"])
        lapsed = next(row for name, row in by_contract.items() if "Lapsed direct" in name)
        self.assertIn("mdi-close", str(lapsed["covers"]))
        self.assertIn("mdi-check", str(direct["covers"]))

    def test_other_pages(self):
        self.add_permissions("dcim.view_rack", "dcim.view_location", "tenancy.view_tenant", "circuits.view_circuit")
        self.add_permissions("virtualization.view_virtualmachine", "nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contractassignment")
        # The rack and the site inherit the region's contract.
        self.assertIn(self.inherited.get_absolute_url(), self.get_page(self.rack, "dcim:rack"))
        self.assertIn(self.inherited.get_absolute_url(), self.get_page(self.site, "dcim:location"))
        tenant_contract = this_year_contract("Tenant deal")
        factories.ContractAssignmentFactory(contract=tenant_contract, assigned_object=self.tenant)
        self.assertIn(tenant_contract.get_absolute_url(), self.get_page(self.tenant, "tenancy:tenant"))
        circuit = factories.make_circuit()
        circuit_contract = this_year_contract("Carrier contract", contract_type="circuit")
        factories.ContractAssignmentFactory(contract=circuit_contract, assigned_object=circuit)
        self.assertIn(circuit_contract.get_absolute_url(), self.get_page(circuit, "circuits:circuit"))
        cluster = Cluster.objects.create(name="Panel cluster", cluster_type=ClusterType.objects.create(name="VMware"))
        vm = VirtualMachine.objects.create(
            name="panel-vm", cluster=cluster, status=factories.status_for(VirtualMachine, "Active")
        )
        vm_contract = this_year_contract("Cluster support")
        factories.ContractAssignmentFactory(contract=vm_contract, assigned_object=cluster)
        self.assertIn(vm_contract.get_absolute_url(), self.get_page(vm, "virtualization:virtualmachine"))

    def test_hidden_without_contract_permission(self):
        self.add_permissions("dcim.view_device")
        content = self.get_page(self.device, "dcim:device")
        self.assertNotIn(self.direct.get_absolute_url(), content)
        self.assertNotIn("Covers today", content)

    def test_restricted_to_viewer(self):
        self.add_permissions("dcim.view_device", "nautobot_contracts.view_contractassignment")
        self.add_permissions("nautobot_contracts.view_contract", constraints={"name": "Regional maintenance"})
        content = self.get_page(self.device, "dcim:device")
        self.assertIn(self.inherited.get_absolute_url(), content)
        self.assertNotIn(self.direct.get_absolute_url(), content)
        self.assertNotIn(self.lapsed.get_absolute_url(), content)

    def render_rows(self, obj, superuser=False):
        if superuser:
            self.user.is_superuser = True
            self.user.save()
        request = RequestFactory().get("/")
        request.user = self.user
        panel = ContractCoveragePanel()
        return panel.get_extra_context(Context({"object": obj, "request": request}))["data"]

    def panel_queries(self, obj):
        request = RequestFactory().get("/")
        request.user = self.user
        with CaptureQueriesContext(connection) as queries:
            html = ContractCoveragePanel().render(Context({"object": obj, "request": request}))
        return len(queries), html

    def test_query_count_independent_of_assignments(self):
        self.add_permissions("nautobot_contracts.view_contract", "nautobot_contracts.view_contractassignment")
        self.panel_queries(self.device)  # warm the user's permission cache and content types
        few, _ = self.panel_queries(self.device)
        for index in range(12):
            contract = this_year_contract(f"Extra {index}", provider=factories.ServiceProviderFactory())
            target = (self.device, self.rack, self.site, self.region, self.tenant)[index % 5]
            factories.ContractAssignmentFactory(contract=contract, assigned_object=target)
        many, html = self.panel_queries(self.device)
        self.assertIn("Extra 11", html)
        self.assertEqual(few, many)
        # rack, tenant, location chain, tenant-group chain, assignments with contract/provider/status.
        self.assertLessEqual(many, 6)

    def test_page_query_count_independent_of_assignments(self):
        self.add_permissions("dcim.view_device", "nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contractassignment")
        url = reverse("dcim:device", kwargs={"pk": self.device.pk})
        self.client.get(url)
        with CaptureQueriesContext(connection) as before:
            self.client.get(url)
        for index in range(10):
            contract = this_year_contract(f"More {index}", provider=factories.ServiceProviderFactory())
            factories.ContractAssignmentFactory(
                contract=contract, assigned_object=(self.device, self.region)[index % 2]
            )
        with CaptureQueriesContext(connection) as after:
            content = self.client.get(url).content.decode()
        self.assertIn("More 9", content)
        self.assertEqual(len(before), len(after))
