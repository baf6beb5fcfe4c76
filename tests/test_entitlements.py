"""services.entitlements: used, utilization and over quota, hand-worked for every unit kind."""

import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.dcim.models import Device
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.users.models import Token, User

from nautobot_contracts.api.serializers import ContractSerializer
from nautobot_contracts.choices import EntitlementUnitChoices
from nautobot_contracts.csv_import import CSVImportError, import_csv
from nautobot_contracts.jobs.renewals import CSV_COLUMNS
from nautobot_contracts.models import Contract, ContractAlert, ContractAssignment
from nautobot_contracts.services import entitlements
from tests import factories
from tests.pinning import pin_today
from tests.test_jobs_money import (
    RENEWALS,
    JobTestCase,
    data_queries,
    grant,
    limited_user,
    logs,
    read_csv,
    renewal_contract,
    run,
)

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


#
# Surfaces: REST, filters, contract page, contracts list, forms, CSV import, GraphQL, the renewals Job.
#


class SurfaceDataMixin(EntitlementTreeMixin):
    """On 2026-06-15: "Fleet" (devices, 2) reaches 3 devices through Region: over quota, 150.0%; "Desk" (seats, 500)
    uses 320 (200 + 120): 64.0%; "Idle" (licences, 16) uses 1: 6.3% (6.25 half-up), under-utilized; "Plain" has
    no entitlement."""

    @classmethod
    def build_surface_data(cls):
        cls.build_tree()
        active = factories.status_for(Contract, "Active")
        cls.fleet = factories.ContractFactory(name="Fleet", quantity=2, unit="devices", status=active)
        factories.ContractAssignmentFactory(contract=cls.fleet, assigned_object=cls.region)
        cls.desk = factories.ContractFactory(name="Desk", quantity=500, unit="seats", status=active)
        cls.desk_big = factories.ContractAssignmentFactory(contract=cls.desk, assigned_object=cls.tenant, quantity=200)
        factories.ContractAssignmentFactory(contract=cls.desk, assigned_object=cls.tenant2, quantity=120)
        cls.idle = factories.ContractFactory(name="Idle", quantity=16, unit="licences", status=active)
        factories.ContractAssignmentFactory(contract=cls.idle, assigned_object=cls.d4)
        cls.plain = factories.ContractFactory(name="Plain", status=active)
        factories.ContractAssignmentFactory(contract=cls.plain, assigned_object=cls.region)


API = "plugins-api:nautobot_contracts-api"
FIELDS = ("used", "utilization_pct", "over_quota")


class EntitlementAPITest(SurfaceDataMixin, APITestCase):
    @classmethod
    def setUpTestData(cls):
        cls.build_surface_data()

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)
        self.user.is_superuser = True
        self.user.save()

    def get(self, url, expected=200):
        response = self.client.get(url, **self.header)
        self.assertHttpStatus(response, expected)
        return response.json()

    def names(self, query):
        return sorted(row["name"] for row in self.get(reverse(f"{API}:contract-list") + query)["results"])

    def test_fields(self):
        body = self.get(reverse(f"{API}:contract-list") + "?fields=name,quantity,unit," + ",".join(FIELDS))
        by_name = {row.pop("name"): row for row in body["results"]}
        self.assertEqual(
            by_name,
            {
                "Fleet": {"quantity": 2, "unit": "devices", "used": 3, "utilization_pct": "150.0", "over_quota": True},
                "Desk": {"quantity": 500, "unit": "seats", "used": 320, "utilization_pct": "64.0", "over_quota": False},
                "Idle": {"quantity": 16, "unit": "licences", "used": 1, "utilization_pct": "6.3", "over_quota": False},
                "Plain": {"quantity": None, "unit": "", "used": None, "utilization_pct": None, "over_quota": False},
            },
        )
        detail = self.get(reverse(f"{API}:contract-detail", kwargs={"pk": self.fleet.pk}))
        self.assertEqual([detail[name] for name in FIELDS], [3, "150.0", True])

    def test_list_query_count_does_not_grow(self):
        url = reverse(f"{API}:contract-list")

        def count(query=""):
            with CaptureQueriesContext(connection) as queries:
                self.get(url + query)
            return len(queries)

        count()
        small = count()
        for index in range(12):
            contract = factories.ContractFactory(name=f"More {index}", quantity=3, unit=("devices", "ports")[index % 2])
            factories.ContractAssignmentFactory(contract=contract, assigned_object=self.site)
        self.assertEqual(count(), small)
        # Leaving the entitlement fields out saves their one query.
        self.assertEqual(count("?omit=" + ",".join(FIELDS)), small - 1)

    def test_restricted_counts(self):
        user = User.objects.create_user(username="limited")
        factories.grant(user, Contract)
        factories.grant(user, ContractAssignment, constraints={"quantity__lt": 150})
        factories.grant(user, Device, constraints={"name": "d1"})
        token = Token.objects.create(user=user)
        response = self.client.get(
            reverse(f"{API}:contract-list") + "?fields=name,used,over_quota",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
        self.assertHttpStatus(response, 200)
        by_name = {row["name"]: (row["used"], row["over_quota"]) for row in response.json()["results"]}
        # Desk: only the 120-seat assignment is visible; Fleet: only d1 of its three devices.
        self.assertEqual(
            by_name, {"Fleet": (1, False), "Desk": (120, False), "Idle": (1, False), "Plain": (None, False)}
        )

    def test_over_quota_filter(self):
        self.assertEqual(self.names("?over_quota=true"), ["Fleet"])
        self.assertEqual(self.names("?over_quota=false"), ["Desk", "Idle", "Plain"])
        self.assertEqual(self.names("?over_quota=true&unit=seats"), [])
        self.assertEqual(self.names("?unit=seats&unit=licences"), ["Desk", "Idle"])
        self.assertEqual(self.names("?quantity__gte=16&quantity__lte=500"), ["Desk", "Idle"])
        body = self.get(reverse(f"{API}:contract-list") + "?over_quota=maybe", expected=400)
        self.assertIn("over_quota", body)

    def test_assignment_fields_and_filters(self):
        url = reverse(f"{API}:contractassignment-list")
        body = self.get(url + f"?contract={self.desk.pk}&fields=quantity,allocation_weight")
        self.assertEqual(
            sorted((row["quantity"], row["allocation_weight"]) for row in body["results"]),
            [(120, "1.0000"), (200, "1.0000")],
        )
        self.assertEqual(self.get(url + "?quantity__gte=150")["count"], 1)
        self.assertEqual(self.get(url + "?allocation_weight__gt=1")["count"], 0)

    def test_entitlement_needs_both_quantity_and_unit(self):
        url = reverse(f"{API}:contract-list")
        base = {
            "provider": self.fleet.provider.pk,
            "status": self.fleet.status.pk,
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "currency": "USD",
        }
        for name, extra, field in (
            ("No unit", {"quantity": 10}, "unit"),
            ("No quantity", {"unit": "seats"}, "quantity"),
            ("Zero", {"quantity": 0, "unit": "seats"}, "quantity"),
            ("Bad unit", {"quantity": 5, "unit": "parsecs"}, "unit"),
        ):
            with self.subTest(name=name):
                response = self.client.post(url, {**base, "name": name, **extra}, format="json", **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.json())
                self.assertFalse(Contract.objects.filter(name=name).exists())
        response = self.client.post(
            url, {**base, "name": "Both", "quantity": 10, "unit": "seats"}, format="json", **self.header
        )
        self.assertHttpStatus(response, 201)
        self.assertEqual([response.json()[name] for name in FIELDS], [0, "0.0", False])
        response = self.client.patch(
            reverse(f"{API}:contract-detail", kwargs={"pk": self.desk.pk}), {"unit": ""}, format="json", **self.header
        )
        self.assertHttpStatus(response, 400)
        self.desk.refresh_from_db()
        self.assertEqual(self.desk.unit, "seats")

    def test_openapi_schema(self):
        generator = SchemaGenerator(patterns=[path("api/plugins/contracts/", include("nautobot_contracts.api.urls"))])
        properties = generator.get_schema(request=None, public=True)["components"]["schemas"]["Contract"]["properties"]
        for name, kind in (("used", "integer"), ("utilization_pct", "string"), ("over_quota", "boolean")):
            with self.subTest(name=name):
                shown = {key: properties[name].get(key) for key in ("type", "nullable", "readOnly")}
                self.assertEqual(shown, {"type": kind, "nullable": True, "readOnly": True})
        self.assertTrue(properties["quantity"]["nullable"])

    def test_graphql(self):
        # The filter set's over_quota filter is a GraphQL argument too; choices come back as GraphQL enum names.
        query = "{ contracts(over_quota: true) { name quantity unit } }"
        response = self.client.post(reverse("graphql-api"), {"query": query}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            response.json(), {"data": {"contracts": [{"name": "Fleet", "quantity": 2, "unit": "DEVICES"}]}}
        )


class EntitlementUITest(SurfaceDataMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.build_surface_data()

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)
        self.user.is_superuser = True
        self.user.save()

    def page(self, url, **headers):
        response = self.client.get(url, headers=headers)
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def list_page(self, query=""):
        return self.page(reverse("plugins:nautobot_contracts:contract_list") + query, **{"HX-Request": "true"})

    def test_contract_page(self):
        content = self.page(self.fleet.get_absolute_url())
        self.assertIn("2 devices", content)
        self.assertIn("3 devices (devices the contract covers today (coverage rule))", content)
        self.assertIn('<span class="badge bg-danger">150.0% — over quota</span>', content)
        content = self.page(self.desk.get_absolute_url())
        self.assertIn("320 seats (sum of the quantities of the assignments in force today)", content)
        self.assertIn('<span class="badge bg-success">64.0%</span>', content)
        self.assertIn("6.3% — under-utilized", self.page(self.idle.get_absolute_url()))
        self.assertNotIn("Used today", self.page(self.plain.get_absolute_url()))

    def test_assignment_page(self):
        content = self.page(self.desk_big.get_absolute_url())
        self.assertIn('<span id="assignment_value_allocation_weight">1.0000</span>', content)
        self.assertIn('<span id="assignment_value_quantity">200</span>', content)

    def test_list_column(self):
        content = self.list_page()
        self.assertIn('<span class="badge bg-danger" title="Over quota">3 / 2 devices (150.0%)</span>', content)
        self.assertIn("320 / 500 seats (64.0%)", content)
        self.assertIn("1 / 16 licences (6.3%)", content)

    def test_list_filter(self):
        content = self.list_page("?over_quota=True")
        self.assertIn(self.fleet.get_absolute_url(), content)
        self.assertNotIn(self.desk.get_absolute_url(), content)
        content = self.list_page("?over_quota=False&unit=seats")
        self.assertIn(self.desk.get_absolute_url(), content)
        self.assertNotIn(self.fleet.get_absolute_url(), content)

    def test_list_column_without_per_row_queries(self):
        def count():
            with CaptureQueriesContext(connection) as queries:
                self.list_page("?per_page=100")
            return len(queries)

        count()
        small = count()
        for index in range(20):
            contract = factories.ContractFactory(name=f"More {index}", quantity=5, unit=("devices", "users")[index % 2])
            factories.ContractAssignmentFactory(contract=contract, assigned_object=self.building)
        self.assertIn("2 / 5 devices (40.0%)", self.list_page("?per_page=100"))
        self.assertEqual(count(), small)

    def test_form_refuses_half_an_entitlement(self):
        url = reverse("plugins:nautobot_contracts:contract_add")
        base = {
            "provider": self.fleet.provider.pk,
            "name": "Form contract",
            "status": self.fleet.status.pk,
            "contract_type": "license",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "renewal_term_months": 12,
            "recurring_cost": "10.00",
            "billing_period": "monthly",
            "one_time_cost": "0.00",
            "currency": "USD",
        }
        for extra, message in (
            ({"quantity": 10, "unit": ""}, "An entitlement quantity needs a unit"),
            ({"quantity": "", "unit": "seats"}, "An entitlement unit needs a quantity"),
        ):
            with self.subTest(extra=extra):
                response = self.client.post(url, {**base, **extra})
                self.assertHttpStatus(response, 200)
                self.assertIn(message, response.content.decode())
                self.assertFalse(Contract.objects.filter(name="Form contract").exists())
        response = self.client.post(url, {**base, "quantity": 10, "unit": "seats"})
        self.assertHttpStatus(response, 302)
        self.assertEqual(Contract.objects.get(name="Form contract").quantity, 10)

    def test_assignment_form_defaults_weight_and_quantity(self):
        url = reverse("plugins:nautobot_contracts:contractassignment_add")
        data = {
            "contract": self.plain.pk,
            "assigned_object_type": ContentType.objects.get_for_model(Device).pk,
            "device": self.d5.pk,
            "allocation_weight": "",
            "quantity": "",
        }
        self.assertHttpStatus(self.client.post(url, data), 302)
        assignment = ContractAssignment.objects.get(contract=self.plain, assigned_object_id=self.d5.pk)
        self.assertEqual((assignment.allocation_weight, assignment.quantity), (Decimal(1), 1))
        response = self.client.post(url, {**data, "device": self.d4.pk, "allocation_weight": "0", "quantity": "0"})
        self.assertHttpStatus(response, 200)
        self.assertFalse(ContractAssignment.objects.filter(contract=self.plain, assigned_object_id=self.d4.pk).exists())


class EntitlementCSVImportTest(TestCase):
    def test_rows_with_an_entitlement(self):
        factories.ServiceProviderFactory(name="Acme")
        factories.status_for(Contract, "Active")
        header = "provider__name,name,status__name,start_date,end_date,currency,quantity,unit"
        text = "\n".join(
            (
                header,
                "Acme,With seats,Active,2026-01-01,2026-12-31,USD,250,seats",
                "Acme,None,Active,2026-01-01,2026-12-31,USD,,",
            )
        )
        import_csv(text, ContractSerializer, Contract.objects.all())
        self.assertEqual(
            sorted(Contract.objects.values_list("name", "quantity", "unit")),
            [("None", None, ""), ("With seats", 250, "seats")],
        )
        bad = "\n".join((header, "Acme,Half,Active,2026-01-01,2026-12-31,USD,250,"))
        with self.assertRaises(CSVImportError) as raised:
            import_csv(bad, ContractSerializer, Contract.objects.all())
        self.assertIn("needs a unit", str(raised.exception))
        self.assertFalse(Contract.objects.filter(name="Half").exists())


class RenewalJobEntitlementTest(EntitlementTreeMixin, JobTestCase):
    """The renewals Job flags each listed contract with an entitlement: utilization, over quota, under-utilized."""

    @classmethod
    def setUpTestData(cls):
        cls.build_tree()
        provider = factories.ServiceProviderFactory(name="Acme")

        def renewing(name, **kwargs):
            # Notice deadline 10 days after the pinned day: "urgent", listed by the Job.
            return renewal_contract(name, provider, 10, **kwargs)

        cls.over = renewing("over", quantity=2, unit="seats")
        factories.ContractAssignmentFactory(contract=cls.over, assigned_object=cls.tenant, quantity=3)
        cls.under = renewing("under", quantity=10, unit="devices", contract_type="license")
        factories.ContractAssignmentFactory(contract=cls.under, assigned_object=cls.rack)  # d1 only: 10.0%
        cls.fine = renewing("fine", quantity=4, unit="licences")
        factories.ContractAssignmentFactory(contract=cls.fine, assigned_object=cls.d2, quantity=3)  # 75.0%
        cls.half = renewing("half", quantity=2, unit="ports")
        factories.ContractAssignmentFactory(contract=cls.half, assigned_object=cls.d3)  # 50.0%: not under
        cls.plain = renewing("plain")
        factories.ContractAssignmentFactory(contract=cls.plain, assigned_object=cls.d3)

    def flags(self, row):
        return {key: row[key] for key in ("utilization_pct", "over_quota", "under_utilized") if key in row}

    def test_rows_flagged(self):
        job_result = run(RENEWALS)
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        by_name = {row["name"]: row for row in job_result.result["contracts"]}
        self.assertEqual(
            {name: self.flags(row) for name, row in by_name.items()},
            {
                "over": {"utilization_pct": "150.0", "over_quota": True, "under_utilized": False},
                "under": {"utilization_pct": "10.0", "over_quota": False, "under_utilized": True},
                "fine": {"utilization_pct": "75.0", "over_quota": False, "under_utilized": False},
                "half": {"utilization_pct": "50.0", "over_quota": False, "under_utilized": False},
                "plain": {},
            },
        )
        self.assertEqual(set(by_name["plain"]), set(CSV_COLUMNS) - {"utilization_pct", "over_quota", "under_utilized"})
        messages = {entry.log_object: entry.message for entry in logs(job_result).exclude(log_object="")}
        self.assertIn("Over quota: 150.0% of its entitlement used.", messages["over"])
        self.assertIn("Under-utilized: 10.0% of its entitlement used.", messages["under"])
        self.assertNotIn("entitlement", messages["plain"])
        _, rows = read_csv(job_result)
        csv_by_name = {row["name"]: row for row in rows}
        self.assertEqual((csv_by_name["over"]["utilization_pct"], csv_by_name["over"]["over_quota"]), ("150.0", "True"))
        self.assertEqual(csv_by_name["plain"]["utilization_pct"], "")

    def test_counts_what_the_running_user_may_view(self):
        user = limited_user()
        grant(user, "contract")
        grant(user, "contractassignment", constraints={"quantity__lt": 3})
        by_name = {row["name"]: row for row in run(RENEWALS, username=user.username).result["contracts"]}
        self.assertEqual(
            self.flags(by_name["over"]), {"utilization_pct": "0.0", "over_quota": False, "under_utilized": True}
        )
        self.assertEqual(by_name["under"]["utilization_pct"], "0.0")  # may view no device

    def test_queries_do_not_grow_with_entitled_contracts(self):
        run(RENEWALS)  # creates the user, warms caches
        ContractAlert.objects.all().delete()
        _, small = data_queries(RENEWALS)
        provider = factories.ServiceProviderFactory(name="Bulk")
        for index in range(12):
            contract = renewal_contract(
                f"more-{index}", provider, 5 + index, quantity=3, unit=("devices", "seats", "users")[index % 3]
            )
            factories.ContractAssignmentFactory(contract=contract, assigned_object=self.region)
        ContractAlert.objects.all().delete()
        large_result, large = data_queries(RENEWALS)
        self.assertEqual(len(large_result.result["contracts"]), 17)
        self.assertEqual(large, small)


class EntitlementModelTest(TestCase):
    """quantity and unit together or not at all, in clean() and in the database; assignment bounds."""

    def test_clean(self):
        for kwargs, field in (({"quantity": 5}, "unit"), ({"unit": "seats"}, "quantity")):
            with self.subTest(kwargs=kwargs):
                contract = factories.ContractFactory.build(provider=factories.ServiceProviderFactory(), **kwargs)
                with self.assertRaises(ValidationError) as raised:
                    contract.full_clean()
                self.assertIn(field, raised.exception.message_dict)
        factories.ContractFactory.build(
            provider=factories.ServiceProviderFactory(), quantity=5, unit="seats"
        ).full_clean()

    def test_database_refuses_half_an_entitlement(self):
        contract = factories.ContractFactory()
        for values in (
            {"quantity": 5, "unit": ""},
            {"quantity": None, "unit": "seats"},
            {"quantity": 0, "unit": "seats"},
        ):
            with self.subTest(values=values), self.assertRaises(IntegrityError), transaction.atomic():
                Contract.objects.filter(pk=contract.pk).update(**values)

    def test_assignment_bounds(self):
        location = factories.make_location()
        for values, field in (
            ({"allocation_weight": Decimal("0")}, "allocation_weight"),
            ({"allocation_weight": Decimal("1000000.0001")}, "allocation_weight"),
            ({"quantity": 0}, "quantity"),
        ):
            with self.subTest(values=values):
                assignment = factories.ContractAssignmentFactory.build(
                    contract=factories.ContractFactory(), assigned_object=location, **values
                )
                with self.assertRaises(ValidationError) as raised:
                    assignment.full_clean()
                self.assertIn(field, raised.exception.message_dict)
