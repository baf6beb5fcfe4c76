"""services.coverage: every path of the coverage rule, restriction, and set-based query counts."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.dcim.models import Device

from nautobot_contracts.models import Contract
from nautobot_contracts.services import coverage
from tests import factories

AS_OF = datetime.date(2026, 6, 15)


class CoverageScanTest(TestCase):
    """covered_devices / uncovered_devices follow the coverage rule (docs/user/app-overview.md#coverage), every path."""

    @classmethod
    def setUpTestData(cls):
        cls.region = factories.make_location("Region", location_type_name="Region")
        cls.site = factories.make_location("Site", parent=cls.region, location_type_name="Site")
        cls.building = factories.make_location("Building", parent=cls.site, location_type_name="Building")
        cls.other_region = factories.make_location("Other region", location_type_name="Region")
        cls.root_group = factories.make_tenant_group("Root group")
        cls.mid_group = factories.make_tenant_group("Mid group", parent=cls.root_group)
        cls.leaf_group = factories.make_tenant_group("Leaf group", parent=cls.mid_group)
        cls.tenant = factories.make_tenant("Tenant in leaf group", group=cls.leaf_group)
        cls.rack = factories.make_rack("R1", location=cls.building)
        # The device under test: in a rack, in the building (under site and region), with a grouped tenant.
        cls.device = factories.make_device("dev-under-test", location=cls.building, rack=cls.rack, tenant=cls.tenant)
        # A bystander with no rack and no tenant, far away in the tree: never covered by anything below.
        cls.bystander = factories.make_device("bystander", location=cls.other_region)

    def assign(self, target, **contract_kwargs):
        """Assign a new contract (Active support for 2026 unless told otherwise) to `target`."""
        window = {key: contract_kwargs.pop(key) for key in ("coverage_start", "coverage_end") if key in contract_kwargs}
        if "status" in contract_kwargs:
            contract_kwargs["status"] = factories.status_for(Contract, contract_kwargs["status"])
        contract = factories.ContractFactory(**contract_kwargs)
        return factories.ContractAssignmentFactory(contract=contract, assigned_object=target, **window)

    def covered(self, as_of=AS_OF, **kwargs):
        """Names of covered devices, after checking covered and uncovered partition all devices."""
        covered = set(coverage.covered_devices(as_of, **kwargs).values_list("name", flat=True))
        uncovered = set(coverage.uncovered_devices(as_of, **kwargs).values_list("name", flat=True))
        self.assertFalse(covered & uncovered)
        self.assertEqual(covered | uncovered, set(Device.objects.values_list("name", flat=True)))
        # The one-statement counts agree with the two querysets for every rule.
        self.assertEqual(coverage.coverage_counts(as_of, **kwargs), (len(covered), len(uncovered)))
        return covered

    def test_counts_in_one_statement(self):
        self.assign(self.region)
        self.assign(self.tenant, status="Expired")
        coverage.coverage_counts(AS_OF)  # content types cached
        with self.assertNumQueries(1):
            self.assertEqual(coverage.coverage_counts(AS_OF), (1, 1))
        queryset = Device.objects.filter(name="bystander")
        self.assertEqual(coverage.coverage_counts(AS_OF, queryset=queryset), (0, 1))

    def test_nothing_assigned(self):
        self.assertEqual(self.covered(), set())

    def test_direct(self):
        self.assign(self.device)
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_via_rack(self):
        self.assign(self.rack)
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_via_own_location(self):
        self.assign(self.building)
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_via_grandparent_location(self):
        self.assign(self.region)
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_unrelated_location_does_not_cover(self):
        sibling = factories.make_location("Sibling building", parent=self.site, location_type_name="Building")
        self.assign(sibling)
        self.assertEqual(self.covered(), set())

    def test_via_tenant(self):
        self.assign(self.tenant)
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_via_tenant_group(self):
        self.assign(self.leaf_group)
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_via_tenant_group_ancestor(self):
        self.assign(self.root_group)
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_expired_status(self):
        self.assign(self.device, status="Expired")
        self.assertEqual(self.covered(), set())

    def test_cancelled(self):
        self.assign(self.device, status="Cancelled")
        self.assertEqual(self.covered(), set())

    def test_pending(self):
        self.assign(self.device, status="Pending")
        self.assertEqual(self.covered(), set())

    def test_active_but_past_end_date(self):
        self.assign(self.device, start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2025, 12, 31))
        self.assertEqual(self.covered(), set())

    def test_not_started_yet(self):
        self.assign(self.device, start_date=datetime.date(2026, 7, 1), end_date=datetime.date(2027, 6, 30))
        self.assertEqual(self.covered(), set())
        self.assertEqual(self.covered(as_of=datetime.date(2026, 7, 1)), {"dev-under-test"})

    def test_auto_renewed_past_end_date(self):
        self.assign(
            self.device, start_date=datetime.date(2024, 1, 1), end_date=datetime.date(2024, 12, 31), auto_renew=True
        )
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_end_date_is_inclusive(self):
        self.assign(self.device, end_date=AS_OF)
        self.assertEqual(self.covered(), {"dev-under-test"})
        self.assertEqual(self.covered(as_of=AS_OF + datetime.timedelta(days=1)), set())

    def test_coverage_window_before(self):
        self.assign(self.device, coverage_start=datetime.date(2026, 1, 1), coverage_end=datetime.date(2026, 6, 14))
        self.assertEqual(self.covered(), set())

    def test_coverage_window_after(self):
        self.assign(self.device, coverage_start=datetime.date(2026, 6, 16))
        self.assertEqual(self.covered(), set())

    def test_coverage_window_inside(self):
        self.assign(self.device, coverage_start=datetime.date(2026, 6, 15), coverage_end=datetime.date(2026, 6, 15))
        self.assertEqual(self.covered(), {"dev-under-test"})

    def test_open_ended_window(self):
        self.assign(self.rack, coverage_end=datetime.date(2026, 9, 30))
        self.assertEqual(self.covered(), {"dev-under-test"})
        self.assertEqual(self.covered(as_of=datetime.date(2026, 10, 1)), set())

    def test_type_not_counted_by_default(self):
        self.assign(self.device, contract_type="license")
        self.assertEqual(self.covered(), set())

    def test_type_counted_when_passed(self):
        self.assign(self.device, contract_type="license")
        self.assertEqual(self.covered(contract_types=["license"]), {"dev-under-test"})

    def test_default_type_not_counted_when_run_names_others(self):
        self.assign(self.device, contract_type="warranty")
        self.assertEqual(self.covered(), {"dev-under-test"})
        self.assertEqual(self.covered(contract_types=["license"]), set())

    def test_one_assignment_covers_many(self):
        for index in range(3):
            factories.make_device(f"extra-{index}", location=self.site)
        self.assign(self.region)
        self.assertEqual(self.covered(), {"dev-under-test", "extra-0", "extra-1", "extra-2"})

    def test_queryset_argument_narrows(self):
        self.assign(self.region)
        queryset = Device.objects.filter(name="bystander")
        self.assertEqual(coverage.covered_devices(AS_OF, queryset=queryset).count(), 0)
        self.assertEqual(list(coverage.uncovered_devices(AS_OF, queryset=queryset)), [self.bystander])


class CoverageRestrictionTest(TestCase):
    """With a user, only devices, assignments and contracts that user may view count."""

    @classmethod
    def setUpTestData(cls):
        cls.location = factories.make_location("Campus")
        cls.visible = factories.make_device("visible", location=cls.location)
        cls.hidden = factories.make_device("hidden", location=cls.location)
        cls.public = factories.ContractFactory(name="Public contract")
        cls.secret = factories.ContractFactory(name="Secret contract")

    def test_devices_restricted(self):
        factories.ContractAssignmentFactory(contract=self.public, assigned_object=self.location)
        self.add_permissions("nautobot_contracts.view_contract", "nautobot_contracts.view_contractassignment")
        self.add_permissions("dcim.view_device", constraints={"name": "visible"})
        self.assertEqual(list(coverage.covered_devices(AS_OF, user=self.user)), [self.visible])
        self.assertEqual(coverage.uncovered_devices(AS_OF, user=self.user).count(), 0)

    def test_contracts_restricted(self):
        factories.ContractAssignmentFactory(contract=self.secret, assigned_object=self.location)
        self.add_permissions("dcim.view_device", "nautobot_contracts.view_contractassignment")
        self.add_permissions("nautobot_contracts.view_contract", constraints={"name": "Public contract"})
        self.assertEqual(coverage.covered_devices(AS_OF, user=self.user).count(), 0)
        self.assertEqual(coverage.uncovered_devices(AS_OF, user=self.user).count(), 2)
        # Unrestricted, the secret contract does cover both.
        self.assertEqual(coverage.covered_devices(AS_OF).count(), 2)

    def test_no_contract_permission_means_nothing_covers(self):
        factories.ContractAssignmentFactory(contract=self.public, assigned_object=self.location)
        self.add_permissions("dcim.view_device")
        self.assertEqual(coverage.covered_devices(AS_OF, user=self.user).count(), 0)
        self.assertEqual(coverage.uncovered_devices(AS_OF, user=self.user).count(), 2)


class CoverageQueryCountTest(TestCase):
    """The scan costs the same number of queries whatever the number of devices, locations and assignments."""

    def build(self, prefix, devices):
        region = factories.make_location(f"{prefix} region", location_type_name="Region")
        site = factories.make_location(f"{prefix} site", parent=region, location_type_name="Site")
        group = factories.make_tenant_group(f"{prefix} group")
        tenant = factories.make_tenant(f"{prefix} tenant", group=factories.make_tenant_group(f"{prefix} sub", group))
        rack = factories.make_rack(f"{prefix} rack", location=site)
        for index in range(devices):
            rack_or_none = rack if index % 2 else None
            tenant_or_none = tenant if index % 3 else None
            factories.make_device(f"{prefix}-{index}", location=site, rack=rack_or_none, tenant=tenant_or_none)
        for target in (region, group, rack):
            factories.ContractAssignmentFactory(assigned_object=target)

    def scan_queries(self):
        with CaptureQueriesContext(connection) as queries:
            covered = coverage.covered_devices(AS_OF).count()
            uncovered = coverage.uncovered_devices(AS_OF).count()
        return len(queries), covered, uncovered

    def test_independent_of_device_count(self):
        self.build("small", 2)
        small = self.scan_queries()
        self.build("large", 30)
        large = self.scan_queries()
        self.assertEqual((small[1], large[1]), (2, 32))
        self.assertEqual(small[0], large[0])
        self.assertLessEqual(large[0], 2)

    def test_restricted_scan_is_bounded(self):
        self.build("restricted", 5)
        self.add_permissions(
            "dcim.view_device", "nautobot_contracts.view_contract", "nautobot_contracts.view_contractassignment"
        )
        coverage.covered_devices(AS_OF, user=self.user).count()  # warm the user's permission cache
        self.build("more", 20)
        with self.assertNumQueries(1):
            self.assertEqual(coverage.covered_devices(AS_OF, user=self.user).count(), 25)


class CoverageForTest(TestCase):
    """coverage_for lists what reaches one object, with its source, in a bounded number of queries."""

    @classmethod
    def setUpTestData(cls):
        cls.region = factories.make_location("Region", location_type_name="Region")
        cls.site = factories.make_location("Site", parent=cls.region, location_type_name="Site")
        cls.root_group = factories.make_tenant_group("Root group")
        cls.group = factories.make_tenant_group("Group", parent=cls.root_group)
        cls.tenant = factories.make_tenant("Tenant", group=cls.group)
        cls.rack = factories.make_rack("R1", location=cls.site)
        cls.device = factories.make_device("dev", location=cls.site, rack=cls.rack, tenant=cls.tenant)
        cls.other = factories.make_device("other", location=factories.make_location("Elsewhere"))

    def assign(self, name, target, **kwargs):
        status = kwargs.pop("status", "Active")
        contract = factories.ContractFactory(name=name, status=factories.status_for(Contract, status), **kwargs)
        return factories.ContractAssignmentFactory(contract=contract, assigned_object=target)

    def test_sources(self):
        self.assign("Direct", self.device)
        self.assign("On rack", self.rack)
        self.assign("On region", self.region)
        self.assign("On tenant", self.tenant)
        self.assign("On root group", self.root_group)
        self.assign("Elsewhere", self.other)
        entries = coverage.coverage_for(self.device, as_of=AS_OF)
        self.assertEqual(
            [(entry.contract.name, entry.source_label, entry.covers) for entry in entries],
            [
                ("Direct", "direct", True),
                ("On rack", "via rack R1", True),
                ("On region", "via location Region", True),
                ("On tenant", "via tenant Tenant", True),
                ("On root group", "via tenant group Root group", True),
            ],
        )

    def test_direct_non_covering_listed_inherited_not(self):
        self.assign("Expired direct", self.device, status="Expired")
        self.assign("Expired on site", self.site, status="Expired")
        self.assign("License direct", self.device, contract_type="license")
        entries = coverage.coverage_for(self.device, as_of=AS_OF)
        self.assertEqual(
            sorted((entry.contract.name, entry.covers) for entry in entries),
            [("Expired direct", False), ("License direct", False)],
        )
        self.assertEqual(coverage.coverage_for(self.device, as_of=AS_OF, covering_only=True), [])
        licensed = coverage.coverage_for(self.device, as_of=AS_OF, contract_types=["license"], covering_only=True)
        self.assertEqual([entry.contract.name for entry in licensed], ["License direct"])

    def test_location_and_tenant_objects(self):
        self.assign("On region", self.region)
        self.assign("On group", self.group)
        site_entries = coverage.coverage_for(self.site, as_of=AS_OF)
        self.assertEqual([entry.source_label for entry in site_entries], ["via location Region"])
        tenant_entries = coverage.coverage_for(self.tenant, as_of=AS_OF)
        self.assertEqual([entry.source_label for entry in tenant_entries], ["via tenant group Group"])
        region_entries = coverage.coverage_for(self.region, as_of=AS_OF)
        self.assertEqual([entry.source_label for entry in region_entries], ["direct"])

    def test_restricted(self):
        self.assign("Direct", self.device)
        self.assign("On region", self.region)
        self.add_permissions("nautobot_contracts.view_contractassignment")
        self.add_permissions("nautobot_contracts.view_contract", constraints={"name": "On region"})
        entries = coverage.coverage_for(self.device, as_of=AS_OF, user=self.user)
        self.assertEqual([entry.contract.name for entry in entries], ["On region"])

    def test_query_count_bounded(self):
        for index in range(5):
            self.assign(f"Direct {index}", self.device)
            self.assign(f"On region {index}", self.region)
        device = Device.objects.get(pk=self.device.pk)
        # rack, tenant, location chain, tenant-group chain, assignments (content types are cached after first use).
        coverage.coverage_for(Device.objects.get(pk=self.device.pk), as_of=AS_OF)
        with self.assertNumQueries(5):
            entries = coverage.coverage_for(device, as_of=AS_OF)
            self.assertEqual(len(entries), 10)
            for entry in entries:
                str(entry.contract.provider), str(entry.contract.status)


class DevicesFilterTest(APITestCase):
    """?nautobot_contracts_has_contract_coverage= on Nautobot's Devices list, UI and REST (coverage today)."""

    FILTER = "nautobot_contracts_has_contract_coverage"

    @classmethod
    def setUpTestData(cls):
        today = timezone.localdate()
        site = factories.make_location("Filter site")
        rack = factories.make_rack("Filter rack", location=site)
        cls.covered = factories.make_device("covered-dev", rack=rack)
        cls.bare = factories.make_device("bare-dev", location=site)
        contract = factories.ContractFactory(
            start_date=today - datetime.timedelta(days=10), end_date=today + datetime.timedelta(days=10)
        )
        factories.ContractAssignmentFactory(contract=contract, assigned_object=rack)
        # Covered only until yesterday: "today" must be what counts.
        lapsed = factories.ContractFactory(
            start_date=today - datetime.timedelta(days=10), end_date=today - datetime.timedelta(days=1)
        )
        factories.ContractAssignmentFactory(contract=lapsed, assigned_object=cls.bare)

    def setUp(self):
        super().setUp()
        self.add_permissions("dcim.view_device", "nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contractassignment")

    def api_names(self, value):
        url = f"{reverse('dcim-api:device-list')}?{self.FILTER}={value}&limit=100"
        response = self.client.get(url, **self.header)
        self.assertHttpStatus(response, 200)
        return sorted(device["name"] for device in response.data["results"])

    def test_rest(self):
        self.assertEqual(self.api_names("true"), ["covered-dev"])
        self.assertEqual(self.api_names("false"), ["bare-dev"])
        self.assertEqual(self.api_names(""), ["bare-dev", "covered-dev"])

    def test_rest_restricted_to_viewable_contracts(self):
        self.remove_permissions("nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contract", constraints={"name": "nothing"})
        self.assertEqual(self.api_names("true"), [])
        self.assertEqual(self.api_names("false"), ["bare-dev", "covered-dev"])

    def test_query_count_independent_of_device_count(self):
        url = f"{reverse('dcim-api:device-list')}?{self.FILTER}=false&limit=100&depth=0"
        self.client.get(url, **self.header)
        with CaptureQueriesContext(connection) as before:
            self.client.get(url, **self.header)
        for index in range(15):
            factories.make_device(f"more-{index}", location=self.bare.location)
        with CaptureQueriesContext(connection) as after:
            response = self.client.get(url, **self.header)
        self.assertEqual(response.data["count"], 16)
        self.assertEqual(len(before), len(after))


class DevicesFilterShortNameTest(DevicesFilterTest):
    """The issue's exact call, /api/dcim/devices/?has_contract_coverage=false, via the app's alias."""

    FILTER = "has_contract_coverage"

    def test_ui_list(self):
        self.client.force_login(self.user)
        url = f"{reverse('dcim:device_list')}?{self.FILTER}=False"
        content = self.client.get(url, HTTP_HX_REQUEST="true").content.decode()
        self.assertIn(self.bare.get_absolute_url(), content)
        self.assertNotIn(self.covered.get_absolute_url(), content)


class DevicesFilterUITest(TestCase):
    """The same filter on the Devices list page, and its field in the Devices filter form."""

    FILTER = DevicesFilterTest.FILTER

    @classmethod
    def setUpTestData(cls):
        DevicesFilterTest.setUpTestData.__func__(cls)

    def setUp(self):
        super().setUp()
        self.add_permissions("dcim.view_device", "nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contractassignment")

    def test_ui_list_and_form(self):
        # The list's table is served to HTMX requests; the full page carries the filter form.
        response = self.client.get(f"{reverse('dcim:device_list')}?{self.FILTER}=False")
        self.assertHttpStatus(response, 200)
        self.assertIn(f'name="{self.FILTER}"', response.content.decode())
        response = self.client.get(f"{reverse('dcim:device_list')}?{self.FILTER}=False", HTTP_HX_REQUEST="true")
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertIn(self.bare.get_absolute_url(), content)
        self.assertNotIn(self.covered.get_absolute_url(), content)
        response = self.client.get(f"{reverse('dcim:device_list')}?{self.FILTER}=True", HTTP_HX_REQUEST="true")
        content = response.content.decode()
        self.assertIn(self.covered.get_absolute_url(), content)
        self.assertNotIn(self.bare.get_absolute_url(), content)

    def test_ui_restricted_to_viewable_contracts(self):
        self.remove_permissions("nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contract", constraints={"name": "nothing"})
        response = self.client.get(f"{reverse('dcim:device_list')}?{self.FILTER}=False", HTTP_HX_REQUEST="true")
        content = response.content.decode()
        self.assertIn(self.bare.get_absolute_url(), content)
        self.assertIn(self.covered.get_absolute_url(), content)
