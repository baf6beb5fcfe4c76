"""services.entitlements: used, utilization and over quota, hand-worked for every unit kind."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device
from nautobot.users.models import User

from nautobot_contracts.choices import EntitlementUnitChoices
from nautobot_contracts.models import Contract, ContractAssignment
from nautobot_contracts.services import entitlements
from tests import factories

AS_OF = datetime.date(2026, 6, 15)


class EntitlementTreeMixin:
    """A location tree, a tenant-group tree and five devices placed so every path of the coverage rule is told apart.

    Region > Site > Building, and Other region; Root group > Mid group > Leaf group.
    - d1: Building, rack R1, tenant T (Leaf group)
    - d2: Building, no rack, no tenant
    - d3: Site, tenant T
    - d4: Other region, no tenant
    - d5: Other region, tenant T2 (Mid group)
    """

    @classmethod
    def build_tree(cls):
        cls.region = factories.make_location("Region", location_type_name="Region")
        cls.site = factories.make_location("Site", parent=cls.region, location_type_name="Site")
        cls.building = factories.make_location("Building", parent=cls.site, location_type_name="Building")
        cls.other_region = factories.make_location("Other region", location_type_name="Region")
        cls.root_group = factories.make_tenant_group("Root group")
        cls.mid_group = factories.make_tenant_group("Mid group", parent=cls.root_group)
        cls.leaf_group = factories.make_tenant_group("Leaf group", parent=cls.mid_group)
        cls.tenant = factories.make_tenant("T", group=cls.leaf_group)
        cls.tenant2 = factories.make_tenant("T2", group=cls.mid_group)
        cls.rack = factories.make_rack("R1", location=cls.building)
        cls.d1 = factories.make_device("d1", location=cls.building, rack=cls.rack, tenant=cls.tenant)
        cls.d2 = factories.make_device("d2", location=cls.building)
        cls.d3 = factories.make_device("d3", location=cls.site, tenant=cls.tenant)
        cls.d4 = factories.make_device("d4", location=cls.other_region)
        cls.d5 = factories.make_device("d5", location=cls.other_region, tenant=cls.tenant2)

    def contract(self, quantity=10, unit=EntitlementUnitChoices.UNIT_DEVICES, status="Active", **kwargs):
        """An entitled contract (a *license* contract: not a coverage type, so the type is shown not to matter)."""
        kwargs.setdefault("contract_type", "license")
        return factories.ContractFactory(
            quantity=quantity, unit=unit, status=factories.status_for(Contract, status), **kwargs
        )

    def assign(self, contract, target, **kwargs):
        return factories.ContractAssignmentFactory(contract=contract, assigned_object=target, **kwargs)

    def used(self, contract, as_of=AS_OF, user=None):
        contract.refresh_from_db()
        return entitlements.entitlement_for(contract, as_of, user=user).used


class DevicesUsedTest(EntitlementTreeMixin, TestCase):
    """unit = devices: the devices the contract reaches by the coverage rule, each counted once."""

    @classmethod
    def setUpTestData(cls):
        cls.build_tree()

    def test_direct(self):
        contract = self.contract()
        self.assign(contract, self.d1)
        self.assign(contract, self.d4, quantity=5)  # an assignment's quantity does not count for devices
        self.assertEqual(self.used(contract), 2)

    def test_via_rack(self):
        contract = self.contract()
        self.assign(contract, self.rack)
        self.assertEqual(self.used(contract), 1)  # d1

    def test_via_location_ancestor(self):
        contract = self.contract()
        self.assign(contract, self.region)
        self.assertEqual(self.used(contract), 3)  # d1, d2 (Building), d3 (Site)

    def test_overlapping_paths_count_a_device_once(self):
        contract = self.contract()
        for target in (self.region, self.site, self.rack, self.d1, self.tenant):
            self.assign(contract, target)
        self.assertEqual(self.used(contract), 3)  # still d1, d2, d3

    def test_via_tenant(self):
        contract = self.contract()
        self.assign(contract, self.tenant)
        self.assertEqual(self.used(contract), 2)  # d1, d3

    def test_via_tenant_group_ancestor(self):
        contract = self.contract()
        self.assign(contract, self.root_group)
        self.assertEqual(self.used(contract), 3)  # d1, d3 (T in Leaf group), d5 (T2 in Mid group)

    def test_other_targets_are_not_devices(self):
        contract = self.contract()
        self.assign(contract, factories.make_circuit())
        self.assertEqual(self.used(contract), 0)

    def test_assignment_outside_its_window_not_counted(self):
        contract = self.contract()
        self.assign(contract, self.d1, coverage_end=datetime.date(2026, 6, 14))
        self.assign(contract, self.d2, coverage_start=datetime.date(2026, 6, 16))
        self.assign(contract, self.d3, coverage_start=datetime.date(2026, 6, 15), coverage_end=AS_OF)
        self.assertEqual(self.used(contract), 1)  # d3: its window contains the day

    def test_contract_not_active_uses_nothing(self):
        for status in ("Pending", "Cancelled", "Expired"):
            with self.subTest(status=status):
                contract = self.contract(status=status)
                self.assign(contract, self.region)
                self.assertEqual(self.used(contract), 0)
        ended = self.contract(end_date=datetime.date(2026, 6, 14))  # ended, does not auto-renew
        self.assign(ended, self.region)
        self.assertEqual(self.used(ended), 0)

    def test_over_quota(self):
        contract = self.contract(quantity=2)
        self.assign(contract, self.region)
        figure = entitlements.entitlement_for(contract, AS_OF)
        self.assertEqual((figure.used, figure.quantity), (3, 2))
        self.assertTrue(figure.over_quota)
        self.assertEqual(figure.utilization_pct, Decimal("150.0"))
        self.assertEqual(figure.summary(), "3 / 2 devices (150.0%)")

    def test_only_devices_the_user_may_view(self):
        contract = self.contract()
        self.assign(contract, self.region)
        user = User.objects.create_user(username="viewer")
        nobody = User.objects.create_user(username="no-devices")
        for model in (Contract, ContractAssignment):
            factories.grant(user, model).users.add(nobody)
        factories.grant(user, Device, constraints={"name__in": ["d1", "d3"]})
        self.assertEqual(self.used(contract, user=User.objects.get(pk=user.pk)), 2)
        self.assertEqual(self.used(contract, user=User.objects.get(pk=nobody.pk)), 0)


class CountedUnitsUsedTest(EntitlementTreeMixin, TestCase):
    """Other units: the sum of the quantities of the assignments in force (1 each by default)."""

    @classmethod
    def setUpTestData(cls):
        cls.build_tree()

    def seats(self, unit=EntitlementUnitChoices.UNIT_SEATS, quantity=10, **kwargs):
        contract = self.contract(quantity=quantity, unit=unit, **kwargs)
        self.assign(contract, self.tenant, quantity=5)
        self.assign(contract, self.tenant2, quantity=3)
        self.assign(contract, self.d1)  # default quantity 1
        # Out of its window on the day: not counted.
        self.assign(contract, self.d2, quantity=100, coverage_end=datetime.date(2026, 6, 1))
        return contract

    def test_every_counted_unit_sums_quantities(self):
        for unit in ("seats", "licences", "ports", "users", "other"):
            with self.subTest(unit=unit):
                contract = self.seats(unit=unit)
                figure = entitlements.entitlement_for(contract, AS_OF)
                self.assertEqual(figure.used, 9)  # 5 + 3 + 1
                self.assertEqual(figure.utilization_pct, Decimal("90.0"))
                self.assertFalse(figure.over_quota)
                self.assertFalse(figure.under_utilized)

    def test_over_quota(self):
        figure = entitlements.entitlement_for(self.seats(quantity=8), AS_OF)
        self.assertTrue(figure.over_quota)
        self.assertEqual(figure.utilization_pct, Decimal("112.5"))  # 9 / 8
        self.assertEqual(figure.summary(), "9 / 8 seats (112.5%)")

    def test_exactly_at_quota_is_not_over(self):
        self.assertFalse(entitlements.entitlement_for(self.seats(quantity=9), AS_OF).over_quota)

    def test_not_active_uses_nothing(self):
        figure = entitlements.entitlement_for(self.seats(status="Pending"), AS_OF)
        self.assertEqual((figure.used, figure.utilization_pct, figure.over_quota), (0, Decimal("0.0"), False))
        self.assertTrue(figure.under_utilized)

    def test_window_edges_count(self):
        contract = self.contract(unit="licences")
        self.assign(contract, self.d1, quantity=2, coverage_start=AS_OF)
        self.assign(contract, self.d2, quantity=4, coverage_end=AS_OF)
        self.assertEqual(self.used(contract), 6)
        self.assertEqual(self.used(contract, as_of=datetime.date(2026, 6, 14)), 4)
        self.assertEqual(self.used(contract, as_of=datetime.date(2026, 6, 16)), 2)

    def test_only_assignments_the_user_may_view(self):
        contract = self.seats()
        user = User.objects.create_user(username="viewer")
        factories.grant(user, Contract)
        factories.grant(user, ContractAssignment, constraints={"quantity__lt": 5})
        self.assertEqual(self.used(contract, user=User.objects.get(pk=user.pk)), 4)  # 3 + 1
        blind = User.objects.create_user(username="blind")
        factories.grant(blind, ContractAssignment)  # may not view the contract: nothing of it counts
        self.assertEqual(self.used(contract, user=User.objects.get(pk=blind.pk)), 0)


class UtilizationTest(TestCase):
    """utilization_pct: one decimal, rounded half-up; under-utilized below 50%."""

    def test_rounding(self):
        cases = [
            (1, 3, "33.3"),
            (2, 3, "66.7"),
            (1, 8, "12.5"),
            (1, 16, "6.3"),  # 6.25 rounds half-up (half-even would give 6.2)
            (3, 16, "18.8"),  # 18.75
            (0, 7, "0.0"),
            (7, 7, "100.0"),
            (1_000_000_000, 1, "100000000000.0"),
        ]
        for used, quantity, expected in cases:
            with self.subTest(used=used, quantity=quantity):
                figure = entitlements.Entitlement(quantity=quantity, unit="seats", used=used)
                self.assertEqual(str(figure.utilization_pct), expected)

    def test_under_utilized_on_the_unrounded_ratio(self):
        def under(used, quantity):
            return entitlements.Entitlement(quantity=quantity, unit="seats", used=used).under_utilized

        self.assertFalse(under(1, 2))  # exactly 50%
        self.assertTrue(under(999, 2000))  # 49.95%, shown as 50.0%
        self.assertTrue(under(0, 1))
        self.assertFalse(under(3, 2))


class SetBasedTest(EntitlementTreeMixin, TestCase):
    """Any number of contracts, one statement; over_quota_q filters in SQL."""

    @classmethod
    def setUpTestData(cls):
        cls.build_tree()

    def build_mix(self):
        contracts = {}
        contracts["devices_over"] = self.contract(quantity=2, name="devices over")
        self.assign(contracts["devices_over"], self.region)  # 3 devices
        contracts["devices_ok"] = self.contract(quantity=5, name="devices ok")
        self.assign(contracts["devices_ok"], self.rack)  # 1 device
        contracts["seats_over"] = self.contract(quantity=1, unit="seats", name="seats over")
        self.assign(contracts["seats_over"], self.tenant, quantity=2)
        contracts["seats_idle"] = self.contract(quantity=4, unit="seats", name="seats idle")
        contracts["plain"] = factories.ContractFactory(name="no entitlement")
        self.assign(contracts["plain"], self.region)
        return contracts

    def test_one_query_for_many_contracts(self):
        contracts = self.build_mix()
        loaded = list(Contract.objects.filter(pk__in=[c.pk for c in contracts.values()]))
        entitlements.entitlements_for(loaded, AS_OF)  # content types cached
        with CaptureQueriesContext(connection) as queries:
            figures = entitlements.entitlements_for(loaded, AS_OF)
        self.assertEqual(len(queries), 1)
        used = {name: figures[c.pk].used for name, c in contracts.items() if c.pk in figures}
        self.assertEqual(used, {"devices_over": 3, "devices_ok": 1, "seats_over": 2, "seats_idle": 0})
        self.assertNotIn(contracts["plain"].pk, figures)
        with self.assertNumQueries(0):
            self.assertEqual(entitlements.entitlements_for([contracts["plain"]], AS_OF), {})

    def test_over_quota_q(self):
        contracts = self.build_mix()
        over = set(Contract.objects.filter(entitlements.over_quota_q(AS_OF)).values_list("name", flat=True))
        self.assertEqual(over, {"devices over", "seats over"})
        not_over = set(Contract.objects.exclude(entitlements.over_quota_q(AS_OF)).values_list("name", flat=True))
        self.assertEqual(not_over, {"devices ok", "seats idle", "no entitlement"})
        bounded = Contract.objects.filter(name__startswith="seats")
        self.assertEqual(
            set(bounded.filter(entitlements.over_quota_q(AS_OF, queryset=bounded)).values_list("name", flat=True)),
            {"seats over"},
        )
        self.assertTrue(contracts)

    def test_over_quota_q_for_a_user_who_sees_nothing(self):
        self.build_mix()
        user = User.objects.create_user(username="nobody")
        condition = entitlements.over_quota_q(AS_OF, user=user)
        self.assertEqual(Contract.objects.filter(condition).count(), 0)
