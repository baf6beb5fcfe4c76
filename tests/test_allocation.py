"""services.allocation: hand-worked splits, attribution, roll-up, filters, restriction, query counts, invariant.

The data set (AS_OF 2026-06-15, USD unless said; EUR converts at 1.10, GBP has no rate):

    Region R > City C > Site S; a second root Other.  Tenant T1 in group G; tenant T2 with no group.
    D1: device at S, tenant T1.  D2: device at S, no tenant.  K1: rack at C, tenant T2.  VM: in a cluster at C,
    tenant T1.  CI: a circuit of tenant T2 terminating at S (A side) and at a provider network (Z side).

    Split     300.00 monthly, cost center NET: D1, K1, R (weights 1, 1, 1)     -> 100 each
    Weighted 1200.00 annual (100/month), OPS: D2 w3, T2 w1                     -> 75 to D2, 25 to T2
    Windowed   90.00 EUR monthly: D1 (window ended 2026-05-31), G w2, Other w1 -> 60 to G, 30 to Other
    VM         20.00 monthly: the VM                                           -> 20 to C (its cluster's), T1
    Circuit    10.00 monthly: CI                                               -> 10 to S, T2
    Unassigned 50.00 monthly, no assignment                                    -> unallocated
    Later      40.00 GBP monthly: D2 with a window from 2026-07-01            -> unallocated
    Expired  1000.00 monthly, ended 2026-03-31, assigned to D1                 -> nothing (not active)

    Totals: USD 300 + 100 + 20 + 10 + 50 = 480, EUR 90, GBP 40; unallocated USD 50, EUR 0, GBP 40.
"""

import datetime
from decimal import Decimal
import random

from nautobot.apps.testing import TestCase
from nautobot.circuits.models import CircuitTermination
from nautobot.dcim.models import Location
from nautobot.tenancy.models import Tenant, TenantGroup
from nautobot.users.models import User
from nautobot.virtualization.models import Cluster, ClusterType, VirtualMachine

from nautobot_contracts.choices import BillingPeriodChoices
from nautobot_contracts.models import Contract, ContractAssignment
from nautobot_contracts.services import allocation, money
from nautobot_contracts.services.money import money_str
from tests import factories

AS_OF = datetime.date(2026, 6, 15)
TOLERANCE = Decimal("1e-9")


def build_allocation_dataset(case):
    """The data set of this module's docstring, as attributes of `case` (a TestCase class)."""
    case.region = factories.make_location("R", location_type_name="Region")
    case.city = factories.make_location("C", parent=case.region, location_type_name="City")
    case.site = factories.make_location("S", parent=case.city, location_type_name="Site")
    case.other = factories.make_location("Other", location_type_name="Region")
    case.group = factories.make_tenant_group("G")
    case.t1 = factories.make_tenant("T1", group=case.group)
    case.t2 = factories.make_tenant("T2")
    case.d1 = factories.make_device("D1", location=case.site, tenant=case.t1)
    case.d2 = factories.make_device("D2", location=case.site)
    case.k1 = factories.make_rack("K1", location=case.city)
    case.k1.tenant = case.t2
    case.k1.save()
    cluster = Cluster.objects.create(
        name="Cluster C", cluster_type=ClusterType.objects.get_or_create(name="VMware")[0], location=case.city
    )
    case.vm = VirtualMachine.objects.create(
        name="VM", cluster=cluster, tenant=case.t1, status=factories.status_for(VirtualMachine, "Active")
    )
    case.circuit = factories.make_circuit("CI")
    case.circuit.tenant = case.t2
    case.circuit.save()
    CircuitTermination.objects.create(circuit=case.circuit, term_side="A", location=case.site)

    def contract(name, cost, **kwargs):
        return factories.ContractFactory(name=name, recurring_cost=Decimal(cost), **kwargs)

    def assign(contract_, target, weight=1, **window):
        return factories.ContractAssignmentFactory(
            contract=contract_, assigned_object=target, allocation_weight=Decimal(weight), **window
        )

    case.split = contract("Split", "300.00", cost_center="NET")
    for target in (case.d1, case.k1, case.region):
        assign(case.split, target)
    case.weighted = contract(
        "Weighted", "1200.00", cost_center="OPS", billing_period=BillingPeriodChoices.PERIOD_ANNUAL
    )
    assign(case.weighted, case.d2, 3)
    assign(case.weighted, case.t2, 1)
    case.windowed = contract("Windowed", "90.00", currency="EUR")
    assign(case.windowed, case.d1, 1, coverage_end=datetime.date(2026, 5, 31))
    assign(case.windowed, case.group, 2)
    assign(case.windowed, case.other, 1)
    case.vm_contract = contract("VM", "20.00")
    assign(case.vm_contract, case.vm)
    case.circuit_contract = contract("Circuit", "10.00")
    assign(case.circuit_contract, case.circuit)
    case.unassigned = contract("Unassigned", "50.00")
    case.later = contract("Later", "40.00", currency="GBP")
    assign(case.later, case.d2, 1, coverage_start=datetime.date(2026, 7, 1))
    expired = contract("Expired", "1000.00", end_date=datetime.date(2026, 3, 31))
    assign(expired, case.d1)
    factories.ExchangeRateFactory(currency="EUR", rate=Decimal("1.10"), effective_date=datetime.date(2026, 1, 1))


def table(result):
    """{(name, currency): monthly cost as a string} of an Allocation's rows."""
    return {(row.name, row.currency): money_str(row.monthly_cost) for row in result.rows}


def money_dict(amounts):
    return {code: money_str(amount) for code, amount in amounts.items()}


class AllocationTest(TestCase):
    """The hand-worked figures of the module docstring, for every grouping."""

    @classmethod
    def setUpTestData(cls):
        build_allocation_dataset(cls)

    def test_totals_and_unallocated(self):
        result = allocation.allocation(AS_OF, "contract")
        self.assertEqual(money_dict(result.total), {"EUR": "90.00", "GBP": "40.00", "USD": "480.00"})
        self.assertEqual(money_dict(result.unallocated), {"EUR": "0.00", "GBP": "40.00", "USD": "50.00"})
        # The total is the monthly burn of services.money, to the last digit.
        self.assertEqual(result.total, money.monthly_burn_by_currency(AS_OF))
        # 480 + 90 x 1.10; GBP has no rate and is listed, not counted.
        self.assertEqual((money_str(result.converted_total), result.unconverted), ("579.00", ["GBP"]))
        self.assertEqual(result.reporting_currency, "USD")

    def test_by_contract(self):
        result = allocation.allocation(AS_OF, "contract")
        self.assertEqual(
            table(result),
            {
                ("Circuit", "USD"): "10.00",
                ("Split", "USD"): "300.00",
                ("VM", "USD"): "20.00",
                ("Weighted", "USD"): "100.00",
                ("Windowed", "EUR"): "90.00",
            },
        )
        self.assertEqual([row.name for row in result.rows], ["Circuit", "Split", "VM", "Weighted", "Windowed"])
        windowed = result.rows[-1]
        self.assertEqual((windowed.id, windowed.object_type), (self.windowed.pk, "nautobot_contracts.contract"))
        self.assertEqual(money_str(windowed.converted_monthly_cost), "99.00")

    def test_by_tenant(self):
        result = allocation.allocation(AS_OF, "tenant")
        self.assertEqual(
            table(result),
            {
                # a tenant group's share stays at group level
                ("G", "EUR"): "60.00",
                # D1 100 (Split) + VM 20
                ("T1", "USD"): "120.00",
                # K1 100 (Split) + 25 (Weighted, assigned to the tenant itself) + CI 10
                ("T2", "USD"): "135.00",
                # R 100 (a location with no tenant), D2 75; Other 30 EUR
                ("(none)", "EUR"): "30.00",
                ("(none)", "USD"): "175.00",
            },
        )
        rows = {(row.name, row.currency): row for row in result.rows}
        self.assertEqual((rows["G", "EUR"].id, rows["G", "EUR"].object_type), (self.group.pk, "tenancy.tenantgroup"))
        self.assertEqual((rows["T1", "USD"].id, rows["T1", "USD"].object_type), (self.t1.pk, "tenancy.tenant"))
        self.assertEqual((rows["(none)", "USD"].id, rows["(none)", "USD"].object_type), (None, None))
        self.assertEqual(money_str(rows["G", "EUR"].converted_monthly_cost), "66.00")
        # "(none)" comes last.
        self.assertEqual([row.name for row in result.rows][-2:], ["(none)", "(none)"])

    def test_by_location_rolls_up_three_levels(self):
        result = allocation.allocation(AS_OF, "location")
        rows = {(row.name, row.currency): row for row in result.rows}
        figures = {key: (money_str(row.own_monthly_cost), money_str(row.monthly_cost)) for key, row in rows.items()}
        self.assertEqual(
            figures,
            {
                # S: D1 100 + D2 75 + CI 10 (its one located termination)
                ("S", "USD"): ("185.00", "185.00"),
                # C: K1 100 + the VM 20 (its cluster's location); with S below it
                ("C", "USD"): ("120.00", "305.00"),
                # R: 100 of its own; with C and S
                ("R", "USD"): ("100.00", "405.00"),
                ("Other", "EUR"): ("30.00", "30.00"),
                # tenants and tenant groups have no location
                ("(none)", "EUR"): ("60.00", "60.00"),
                ("(none)", "USD"): ("25.00", "25.00"),
            },
        )
        self.assertEqual(rows["S", "USD"].parent_id, self.city.pk)
        self.assertIsNone(rows["R", "USD"].parent_id)
        self.assertEqual(rows["R", "USD"].object_type, "dcim.location")

    def test_by_cost_center(self):
        self.assertEqual(
            table(allocation.allocation(AS_OF, "cost_center")),
            {
                ("NET", "USD"): "300.00",
                ("OPS", "USD"): "100.00",
                ("(none)", "EUR"): "90.00",
                ("(none)", "USD"): "30.00",
            },
        )

    def test_circuit_terminating_at_two_sites_has_no_location(self):
        CircuitTermination.objects.filter(circuit=self.circuit).update(term_side="Z")
        CircuitTermination.objects.create(circuit=self.circuit, term_side="A", location=self.other)
        rows = table(allocation.allocation(AS_OF, "location"))
        self.assertEqual(rows["S", "USD"], "175.00")
        self.assertEqual(rows["(none)", "USD"], "35.00")

    def test_weights_are_relative(self):
        # Weights 2 and 6 split like 1 and 3.
        ContractAssignment.objects.filter(contract=self.weighted).update(allocation_weight=Decimal(2))
        ContractAssignment.objects.filter(contract=self.weighted, assigned_object_id=self.d2.pk).update(
            allocation_weight=Decimal(6)
        )
        rows = table(allocation.allocation(AS_OF, "contract", tenant=self.t2))
        self.assertEqual(rows, {("Split", "USD"): "100.00", ("Weighted", "USD"): "25.00", ("Circuit", "USD"): "10.00"})

    def test_thirds_are_not_rounded(self):
        self.split.recurring_cost = Decimal("100.00")
        self.split.save()
        rows = {row.name: row for row in allocation.allocation(AS_OF, "location").rows if row.currency == "USD"}
        # Each share is 33.333...; the rolled-up figure sums the unrounded shares, rounded only when shown.
        self.assertEqual(money_str(rows["R"].own_monthly_cost), "33.33")
        self.assertEqual(money_str(rows["R"].monthly_cost), "205.00")  # 33.33.. x 3 + 75 + 20 + 10

    def test_date_moves_the_split(self):
        # On 2026-05-15 the Windowed D1 assignment is still in force: 90 EUR over D1 w1, G w2, Other w1.
        rows = table(allocation.allocation(datetime.date(2026, 5, 15), "tenant", currency="EUR"))
        self.assertEqual(rows, {("G", "EUR"): "45.00", ("T1", "EUR"): "22.50", ("(none)", "EUR"): "22.50"})
        # In July the Later (GBP) assignment comes into force.
        july = allocation.allocation(datetime.date(2026, 7, 15), "contract", currency="GBP")
        self.assertEqual((table(july), money_dict(july.unallocated)), ({("Later", "GBP"): "40.00"}, {"GBP": "0.00"}))

    def test_currency_filter(self):
        result = allocation.allocation(AS_OF, "tenant", currency="eur")
        self.assertEqual(table(result), {("G", "EUR"): "60.00", ("(none)", "EUR"): "30.00"})
        self.assertEqual(
            (money_dict(result.total), money_dict(result.unallocated)), ({"EUR": "90.00"}, {"EUR": "0.00"})
        )
        self.assertEqual(money_str(result.converted_total), "99.00")

    def test_location_filter_is_the_subtree(self):
        result = allocation.allocation(AS_OF, "location", location=self.city)
        figures = {row.name: (money_str(row.own_monthly_cost), money_str(row.monthly_cost)) for row in result.rows}
        self.assertEqual(figures, {"C": ("120.00", "305.00"), "S": ("185.00", "185.00")})
        self.assertEqual((money_dict(result.total), result.unallocated), ({"USD": "305.00"}, {}))
        by_tenant = allocation.allocation(AS_OF, "tenant", location=self.site)
        self.assertEqual(
            table(by_tenant), {("T1", "USD"): "100.00", ("T2", "USD"): "10.00", ("(none)", "USD"): "75.00"}
        )

    def test_tenant_filter(self):
        result = allocation.allocation(AS_OF, "location", tenant=self.t1)
        figures = {row.name: (money_str(row.own_monthly_cost), money_str(row.monthly_cost)) for row in result.rows}
        self.assertEqual(figures, {"C": ("20.00", "120.00"), "R": ("0.00", "120.00"), "S": ("100.00", "100.00")})
        self.assertEqual(money_dict(result.total), {"USD": "120.00"})

    def test_bad_group_by(self):
        with self.assertRaisesRegex(ValueError, "group_by must be one of tenant, location, cost_center, contract"):
            allocation.allocation(AS_OF, "provider")

    def test_bounded_queries(self):
        allocation.allocation(AS_OF, "tenant")  # content types cached
        # grouping statement, totals, rates, tenant names, tenant group names
        with self.assertNumQueries(5):
            allocation.allocation(AS_OF, "tenant")
        # grouping statement (with the roll-up), totals, rates, location names
        with self.assertNumQueries(4):
            allocation.allocation(AS_OF, "location")
        with self.assertNumQueries(3):
            allocation.allocation(AS_OF, "contract")
        with self.assertNumQueries(3):
            allocation.allocation(AS_OF, "cost_center")

    def test_location_panel_figures(self):
        figures = allocation.location_cost(self.city, AS_OF, top=2)
        self.assertEqual(money_dict(figures.own.by_currency), {"USD": "120.00"})
        self.assertEqual(money_dict(figures.including_descendants.by_currency), {"USD": "305.00"})
        self.assertEqual(money_str(figures.including_descendants.total), "305.00")
        # Split: K1 100 + D1 100; Weighted: D2 75; then VM 20 and Circuit 10 (cut by top=2).
        self.assertEqual(
            [(share.contract.name, money_str(share.monthly_cost)) for share in figures.top_contracts],
            [("Split", "200.00"), ("Weighted", "75.00")],
        )

    def test_top_contracts_ranked_by_converted_cost(self):
        # At Other: Windowed 30 EUR (33 USD) against a new 32 USD contract.
        factories.ContractAssignmentFactory(
            contract=factories.ContractFactory(name="Local", recurring_cost=32), assigned_object=self.other
        )
        figures = allocation.location_cost(self.other, AS_OF)
        self.assertEqual([share.contract.name for share in figures.top_contracts], ["Windowed", "Local"])
        self.assertEqual(money_str(figures.own.total), "65.00")
        self.assertEqual(money_str(figures.top_contracts[0].converted_monthly_cost), "33.00")

    def test_tenant_panel_figures(self):
        figures = allocation.tenant_cost(self.t2, AS_OF)
        self.assertIsNone(figures.including_descendants)
        self.assertEqual(money_dict(figures.own.by_currency), {"USD": "135.00"})
        self.assertEqual(
            [(share.contract.name, money_str(share.monthly_cost)) for share in figures.top_contracts],
            [("Split", "100.00"), ("Weighted", "25.00"), ("Circuit", "10.00")],
        )

    def test_panel_figures_bounded_queries(self):
        allocation.location_cost(self.region, AS_OF)
        # Figures and per-currency top contracts in one statement, the chosen contracts; USD needs no rate lookup.
        with self.assertNumQueries(2):
            allocation.location_cost(self.region, AS_OF)
        with self.assertNumQueries(2):
            allocation.tenant_cost(self.t1, AS_OF)
        # EUR's rate is read.
        with self.assertNumQueries(3):
            allocation.location_cost(self.other, AS_OF)

    def test_nothing_for_an_object_without_shares(self):
        figures = allocation.tenant_cost(factories.make_tenant("Nobody"), AS_OF)
        self.assertEqual((figures.own.by_currency, figures.top_contracts), ({}, []))


class AllocationRestrictionTest(TestCase):
    """A user who may not view some contracts, assignments, tenants and groups sees a split that still adds up."""

    @classmethod
    def setUpTestData(cls):
        build_allocation_dataset(cls)
        cls.viewer = User.objects.create_user(username="partial-viewer")
        # Every contract but Unassigned; the assignments to anything but a location; tenant T1 only; no group.
        factories.grant(
            cls.viewer, Contract, constraints={"name__in": ["Split", "Weighted", "Windowed", "VM", "Later"]}
        )
        factories.grant(
            cls.viewer,
            ContractAssignment,
            constraints={
                "assigned_object_type__model__in": ["device", "rack", "tenant", "tenantgroup", "virtualmachine"]
            },
        )
        factories.grant(cls.viewer, Tenant, constraints={"name": "T1"})
        factories.grant(cls.viewer, TenantGroup, constraints={"name": "nothing"})

    def setUp(self):
        super().setUp()
        self.viewer = User.objects.get(pk=self.viewer.pk)

    def test_split_over_visible_assignments(self):
        result = allocation.allocation(AS_OF, "tenant", user=self.viewer)
        self.assertEqual(
            table(result),
            {
                # Split over D1 and K1 only (R is hidden): 150 each; VM 20
                ("T1", "USD"): "170.00",
                # K1 150 + Weighted 25 (tenant T2, not viewable); Windowed all 90 to G (Other is hidden)
                ("(hidden)", "EUR"): "90.00",
                ("(hidden)", "USD"): "175.00",
                ("(none)", "USD"): "75.00",
            },
        )
        # Rows + unallocated = the user's burn: Unassigned and Circuit are not theirs.
        self.assertEqual(money_dict(result.total), {"EUR": "90.00", "GBP": "40.00", "USD": "420.00"})
        self.assertEqual(money_dict(result.unallocated), {"EUR": "0.00", "GBP": "40.00", "USD": "0.00"})
        self.assertEqual(result.total, money.monthly_burn_by_currency(AS_OF, user=self.viewer))

    def test_hidden_locations(self):
        # Locations C and S only: R's row is left out (it has no own share), C's still includes S.
        factories.grant(self.viewer, Location, constraints={"name__in": ["C", "S"]})
        user = User.objects.get(pk=self.viewer.pk)
        rows = {(row.name, row.currency): row for row in allocation.allocation(AS_OF, "location", user=user).rows}
        self.assertEqual(
            {key: (money_str(row.own_monthly_cost), money_str(row.monthly_cost)) for key, row in rows.items()},
            {
                ("C", "USD"): ("170.00", "395.00"),  # K1 150 + VM 20; with S
                ("S", "USD"): ("225.00", "225.00"),  # D1 150 + D2 75
                ("(none)", "EUR"): ("90.00", "90.00"),
                ("(none)", "USD"): ("25.00", "25.00"),
            },
        )

    def test_no_permission_sees_nothing(self):
        nobody = User.objects.create_user(username="nobody")
        result = allocation.allocation(AS_OF, "location", user=nobody)
        self.assertEqual((result.rows, result.total, result.unallocated), ([], {}, {}))
        figures = allocation.location_cost(self.region, AS_OF, user=nobody)
        self.assertEqual((figures.including_descendants.by_currency, figures.top_contracts), ({}, []))


class AllocationInvariantTest(TestCase):
    """On a random data set, every grouping's shares plus the unallocated remainder equal the monthly burn."""

    @classmethod
    def setUpTestData(cls):
        rng = random.Random(20260615)  # noqa: S311  # reproducible test data
        roots = [factories.make_location(f"root-{i}", location_type_name="Region") for i in range(2)]
        mids = [factories.make_location(f"mid-{i}", parent=roots[i % 2], location_type_name="City") for i in range(4)]
        leaves = [factories.make_location(f"leaf-{i}", parent=mids[i % 4], location_type_name="Site") for i in range(8)]
        locations = roots + mids + leaves
        groups = [factories.make_tenant_group(f"group-{i}") for i in range(2)]
        tenants = [factories.make_tenant(f"tenant-{i}", group=groups[i % 2] if i % 3 else None) for i in range(5)]
        devices = [
            factories.make_device(f"dev-{i}", location=rng.choice(leaves), tenant=rng.choice([None, *tenants]))
            for i in range(30)
        ]
        racks = [factories.make_rack(f"rack-{i}", location=rng.choice(mids)) for i in range(4)]
        targets = devices + racks + locations + tenants + groups
        statuses = [factories.status_for(Contract, name) for name in ("Active", "Active", "Active", "Expired")]
        periods = [choice for choice, _ in BillingPeriodChoices.CHOICES]
        for i in range(60):
            start = datetime.date(2025, 1, 1) + datetime.timedelta(days=rng.randint(0, 500))
            contract = factories.ContractFactory(
                name=f"random-{i}",
                status=rng.choice(statuses),
                start_date=start,
                end_date=start + datetime.timedelta(days=rng.choice((200, 365, 730))),
                auto_renew=rng.random() < 0.3,
                recurring_cost=Decimal(rng.randint(1, 100_000)) / 100,
                billing_period=rng.choice(periods),
                currency=rng.choice(("USD", "EUR", "GBP")),
                cost_center=rng.choice(("", "NET", "OPS")),
            )
            for target in rng.sample(targets, rng.randint(0, 4)):
                window = {}
                if rng.random() < 0.3:
                    window = {"coverage_start": contract.start_date + datetime.timedelta(days=rng.randint(0, 150))}
                factories.ContractAssignmentFactory(
                    contract=contract,
                    assigned_object=target,
                    allocation_weight=Decimal(rng.randint(1, 4000)) / 1000,
                    **window,
                )

    def assert_adds_up(self, result, tops, as_of):
        burn = money.monthly_burn_by_currency(as_of)
        self.assertEqual(result.total, burn)
        for currency, total in burn.items():
            allocated = sum((row.monthly_cost for row in tops if row.currency == currency), Decimal(0))
            with self.subTest(group_by=result.group_by, currency=currency, as_of=as_of):
                self.assertLess(abs(allocated + result.unallocated[currency] - total), TOLERANCE)

    def test_rows_plus_unallocated_equal_the_burn(self):
        for as_of in (datetime.date(2025, 6, 1), AS_OF, datetime.date(2027, 1, 1)):
            for group_by in ("tenant", "cost_center", "contract"):
                result = allocation.allocation(as_of, group_by)
                self.assert_adds_up(result, result.rows, as_of)
            result = allocation.allocation(as_of, "location")
            # Rolled-up figures nest: the top-level locations and the "(none)" row hold each share once; so do the
            # own figures of every row.
            self.assert_adds_up(result, [row for row in result.rows if row.parent_id is None], as_of)
            own = [allocation.AllocationRow(r.id, r.name, r.currency, r.own_monthly_cost) for r in result.rows]
            self.assert_adds_up(result, own, as_of)
            self.assertTrue(any(row.parent_id for row in result.rows))
