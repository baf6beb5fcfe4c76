"""Cost allocation surfaces: the REST endpoint, the Job, the Monthly cost panel; restriction, 400s, query counts.

The figures are those of tests/test_allocation.py's hand-worked data set (its module docstring).
"""

import csv
import io

from django.db import connection
from django.template import Context
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator
from nautobot.apps.testing import APITestCase, TestCase, get_job_class_and_model, run_job_for_testing
from nautobot.dcim.models import Location
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import FileProxy
from nautobot.tenancy.models import Tenant
from nautobot.users.models import User

from nautobot_contracts.cost_panels import MonthlyCostPanel
from nautobot_contracts.models import Contract, ContractAssignment
from nautobot_contracts.template_content import template_extensions
from tests import factories
from tests.pinning import pin_today
from tests.test_allocation import AS_OF, build_allocation_dataset
from tests.test_jobs_coverage import JobLogsOnDefaultDatabase

URL = "plugins-api:nautobot_contracts-api:cost-allocation"
JOB = ("nautobot_contracts.jobs.allocation", "CostAllocationReport")


def restricted_viewer():
    """A user who may view every contract but Unassigned and Circuit, the non-location assignments, tenant T1."""
    viewer = User.objects.create_user(username="partial-viewer")
    factories.grant(viewer, Contract, constraints={"name__in": ["Split", "Weighted", "Windowed", "VM", "Later"]})
    factories.grant(
        viewer,
        ContractAssignment,
        constraints={"assigned_object_type__model__in": ["device", "rack", "tenant", "tenantgroup", "virtualmachine"]},
    )
    factories.grant(viewer, Tenant, constraints={"name": "T1"})
    return viewer


class CostAllocationAPITest(APITestCase):
    """GET /api/plugins/contracts/cost-allocation/."""

    @classmethod
    def setUpTestData(cls):
        build_allocation_dataset(cls)

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)

    def get(self, **params):
        return self.client.get(reverse(URL), params, **self.header)

    def grant_all(self):
        self.add_permissions(
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_contractassignment",
            "dcim.view_location",
            "tenancy.view_tenant",
            "tenancy.view_tenantgroup",
            "nautobot_contracts.view_exchangerate",
        )

    def test_by_location(self):
        self.grant_all()
        response = self.get(group_by="location")
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertEqual(
            {key: data[key] for key in ("as_of", "group_by", "reporting_currency", "unallocated", "total")},
            {
                "as_of": "2026-06-15",
                "group_by": "location",
                "reporting_currency": "USD",
                "unallocated": {"EUR": "0.00", "GBP": "40.00", "USD": "50.00"},
                "total": {"EUR": "90.00", "GBP": "40.00", "USD": "480.00"},
            },
        )
        self.assertEqual((data["converted_total"], data["unconverted"]), ("579.00", ["GBP"]))
        rows = {(row["name"], row["currency"]): row for row in data["rows"]}
        self.assertEqual(
            rows["C", "USD"],
            {
                "id": str(self.city.pk),
                "name": "C",
                "object_type": "dcim.location",
                "currency": "USD",
                "monthly_cost": "305.00",
                "own_monthly_cost": "120.00",
                "parent_id": str(self.region.pk),
                "converted_monthly_cost": "305.00",
            },
        )
        self.assertEqual(
            rows["(none)", "EUR"],
            {
                "id": None,
                "name": "(none)",
                "object_type": None,
                "currency": "EUR",
                "monthly_cost": "60.00",
                "own_monthly_cost": "60.00",
                "parent_id": None,
                "converted_monthly_cost": "66.00",
            },
        )

    def test_by_tenant_with_filters(self):
        self.grant_all()
        data = self.get(group_by="tenant", as_of="2026-06-15", location=str(self.site.pk)).json()
        self.assertEqual(
            [(row["name"], row["monthly_cost"]) for row in data["rows"]],
            [("T1", "100.00"), ("T2", "10.00"), ("(none)", "75.00")],
        )
        self.assertEqual((data["total"], data["unallocated"]), ({"USD": "185.00"}, {}))
        self.assertNotIn("own_monthly_cost", data["rows"][0])
        data = self.get(group_by="tenant", currency="eur").json()
        group_row = data["rows"][0]
        self.assertEqual(
            (group_row["id"], group_row["name"], group_row["object_type"], group_row["converted_monthly_cost"]),
            (str(self.group.pk), "G", "tenancy.tenantgroup", "66.00"),
        )
        data = self.get(group_by="contract", tenant=str(self.t2.pk)).json()
        self.assertEqual(
            [(row["name"], row["monthly_cost"]) for row in data["rows"]],
            [("Circuit", "10.00"), ("Split", "100.00"), ("Weighted", "25.00")],
        )

    def test_by_cost_center(self):
        self.grant_all()
        rows = self.get(group_by="cost_center").json()["rows"]
        self.assertEqual(
            [(row["id"], row["name"], row["currency"], row["monthly_cost"]) for row in rows],
            [
                ("NET", "NET", "USD", "300.00"),
                ("OPS", "OPS", "USD", "100.00"),
                (None, "(none)", "EUR", "90.00"),
                (None, "(none)", "USD", "30.00"),
            ],
        )

    def test_bad_input_is_a_400_naming_the_parameter(self):
        self.add_permissions("nautobot_contracts.view_contract")
        hidden_location = factories.make_location("Secret site")
        cases = [
            ({}, "group_by"),
            ({"group_by": "provider"}, "group_by"),
            ({"group_by": "tenant", "as_of": "2026-02-30"}, "as_of"),
            ({"group_by": "tenant", "as_of": "1899-12-31"}, "as_of"),
            ({"group_by": "tenant", "as_of": "tomorrow"}, "as_of"),
            ({"group_by": "tenant", "currency": "XYZ"}, "currency"),
            ({"group_by": "tenant", "currency": "EURO"}, "currency"),
            ({"group_by": "tenant", "location": "not-a-uuid"}, "location"),
            ({"group_by": "tenant", "location": "3d0a1f6e-0000-4000-8000-000000000000"}, "location"),
            ({"group_by": "tenant", "tenant": "3d0a1f6e-0000-4000-8000-000000000000"}, "tenant"),
        ]
        for params, name in cases:
            with self.subTest(params=params):
                response = self.get(**params)
                self.assertHttpStatus(response, 400)
                self.assertEqual(list(response.json()), [name])
        self.assertIn("group_by", str(self.get(group_by="provider").json()))
        # A location that exists but that the user may not view gets the same answer as one that does not exist.
        factories.grant(self.user, Location, constraints={"name__in": ["R", "C", "S", "Other"]})
        self.user = User.objects.get(pk=self.user.pk)
        self.assertIn("No location with id", str(self.get(group_by="tenant", location=str(hidden_location.pk)).json()))

    def test_needs_contract_view_permission(self):
        response = self.get(group_by="tenant")
        self.assertHttpStatus(response, 403)
        self.client.logout()
        self.assertIn(self.client.get(reverse(URL), {"group_by": "tenant"}).status_code, (401, 403))

    def test_restricted_to_what_the_user_may_view(self):
        viewer = restricted_viewer()
        self.client.force_authenticate(viewer)
        data = self.client.get(reverse(URL), {"group_by": "tenant"}).json()
        self.assertEqual(
            [(row["name"], row["currency"], row["monthly_cost"]) for row in data["rows"]],
            [("T1", "USD", "170.00"), ("(hidden)", "EUR", "90.00"), ("(hidden)", "USD", "175.00"),
             ("(none)", "USD", "75.00")],
        )  # fmt: skip
        self.assertEqual(data["total"], {"EUR": "90.00", "GBP": "40.00", "USD": "420.00"})
        self.assertEqual(data["unallocated"], {"EUR": "0.00", "GBP": "40.00", "USD": "0.00"})
        shown = str(data)
        for secret in ("T2", "Unassigned", str(self.t2.pk), str(self.group.pk)):
            self.assertNotIn(secret, shown)

    def test_query_count_independent_of_data_size(self):
        self.grant_all()
        self.get(group_by="location")

        def queries():
            with CaptureQueriesContext(connection) as captured:
                self.assertHttpStatus(self.get(group_by="location"), 200)
            return len(captured)

        few = queries()
        for index in range(15):
            contract = factories.ContractFactory(name=f"Extra {index}", currency=("USD", "EUR")[index % 2])
            device = factories.make_device(f"extra-{index}", location=(self.site, self.city, self.other)[index % 3])
            factories.ContractAssignmentFactory(contract=contract, assigned_object=device)
        self.assertEqual(queries(), few)

    def test_documented_in_the_openapi_schema(self):
        generator = SchemaGenerator(patterns=[path("api/plugins/contracts/", include("nautobot_contracts.api.urls"))])
        schema = generator.get_schema(request=None, public=True)
        operation = schema["paths"]["/plugins/contracts/cost-allocation/"]["get"]
        parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
        self.assertTrue({"group_by", "as_of", "currency", "location", "tenant"} <= set(parameters))
        self.assertTrue(parameters["group_by"]["required"])
        self.assertEqual(parameters["group_by"]["schema"]["enum"], ["tenant", "location", "cost_center", "contract"])
        response = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        component = schema["components"]["schemas"][response.rsplit("/", 1)[-1]]
        self.assertTrue(
            {"as_of", "group_by", "reporting_currency", "rows", "unallocated", "total"} <= set(component["properties"])
        )


class CostAllocationJobTest(JobLogsOnDefaultDatabase, TestCase):
    """The "Cost allocation report" Job: result, CSV, restriction."""

    @classmethod
    def setUpTestData(cls):
        build_allocation_dataset(cls)

    def run_job(self, username="job-runner", **job_kwargs):
        _, job_model = get_job_class_and_model(*JOB)
        job_result = run_job_for_testing(job_model, username=username, job_kwargs=job_kwargs)
        job_result.refresh_from_db()
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS, job_result.traceback)
        return job_result

    def read_csv(self, job_result):
        (proxy,) = FileProxy.objects.filter(job_result=job_result)
        with proxy.file.open("rb") as handle:
            return proxy.name, list(csv.DictReader(io.StringIO(handle.read().decode("utf-8"))))

    def test_meta(self):
        job_class, job_model = get_job_class_and_model(*JOB)
        self.assertEqual((job_model.name, job_model.grouping), ("Cost allocation report", "Contracts"))
        self.assertTrue(job_class.read_only)

    def test_result_and_csv_by_location(self):
        job_result = self.run_job(as_of="2026-06-15", group_by="location")
        result = job_result.result
        self.assertEqual(
            {key: result[key] for key in ("as_of", "group_by", "unallocated", "total", "row_count")},
            {
                "as_of": "2026-06-15",
                "group_by": "location",
                "unallocated": {"EUR": "0.00", "GBP": "40.00", "USD": "50.00"},
                "total": {"EUR": "90.00", "GBP": "40.00", "USD": "480.00"},
                "row_count": 6,
            },
        )
        self.assertEqual(
            [(row["name"], row["monthly_cost"], row["own_monthly_cost"]) for row in result["rows"]],
            [("C", "305.00", "120.00"), ("Other", "30.00", "30.00"), ("R", "405.00", "100.00"),
             ("S", "185.00", "185.00"), ("(none)", "60.00", "60.00"), ("(none)", "25.00", "25.00")],
        )  # fmt: skip
        name, rows = self.read_csv(job_result)
        self.assertEqual(name, "cost-allocation-location-2026-06-15.csv")
        self.assertEqual(
            list(rows[0]),
            ["id", "name", "parent_id", "currency", "monthly_cost", "own_monthly_cost", "converted_monthly_cost"],
        )
        self.assertEqual(rows[0]["name"], "C")
        self.assertEqual(rows[0]["parent_id"], str(self.region.pk))
        self.assertEqual(
            [(row["name"], row["currency"], row["monthly_cost"]) for row in rows[6:]],
            [("(unallocated)", "EUR", "0.00"), ("(unallocated)", "GBP", "40.00"), ("(unallocated)", "USD", "50.00"),
             ("(total)", "EUR", "90.00"), ("(total)", "GBP", "40.00"), ("(total)", "USD", "480.00")],
        )  # fmt: skip

    def test_default_group_by_tenant_and_today(self):
        pin_today(self, AS_OF)
        result = self.run_job().result
        self.assertEqual((result["as_of"], result["group_by"]), ("2026-06-15", "tenant"))
        self.assertEqual(result["rows"][0]["name"], "G")

    def test_restricted_to_the_running_user(self):
        viewer = restricted_viewer()
        job_result = self.run_job(username=viewer.username, as_of="2026-06-15", group_by="tenant")
        self.assertEqual(job_result.result["total"]["USD"], "420.00")
        _, rows = self.read_csv(job_result)
        shown = str(job_result.result) + str(rows)
        for secret in ("T2", "Unassigned", "Circuit", str(self.t2.pk)):
            self.assertNotIn(secret, shown)


class MonthlyCostPanelTest(TestCase):
    """The Monthly cost panel on Location and Tenant pages."""

    @classmethod
    def setUpTestData(cls):
        build_allocation_dataset(cls)

    def setUp(self):
        super().setUp()
        pin_today(self, AS_OF)

    def rows(self, obj, user=None):
        request = RequestFactory().get("/")
        request.user = user or self.user
        return MonthlyCostPanel().get_extra_context(Context({"object": obj, "request": request}))["data"]

    def cells(self, obj, user=None):
        return [
            [str(row.get(key) or "") for key in ("item", "currency", "monthly_cost", "converted")]
            for row in self.rows(obj, user)
        ]

    def test_registered_on_location_and_tenant_pages(self):
        panels = {
            extension.model: [type(panel) for panel in extension.object_detail_panels]
            for extension in template_extensions
        }
        self.assertIn(MonthlyCostPanel, panels["dcim.location"])
        self.assertIn(MonthlyCostPanel, panels["tenancy.tenant"])
        self.assertNotIn(MonthlyCostPanel, panels["dcim.device"])

    def test_location_rows(self):
        self.user.is_superuser = True
        self.user.save()
        cells = self.cells(self.city)
        self.assertEqual(cells[0], ["Own", "USD", "120.00", "120.00 USD"])
        self.assertEqual(cells[1], ["Including descendants", "USD", "305.00", "305.00 USD"])
        self.assertEqual(cells[2][1:], ["", "", "305.00 USD"])
        self.assertIn("Total", cells[2][0])
        self.assertIn("Top contracts: ", cells[3][0])
        self.assertIn(self.split.get_absolute_url(), cells[3][0])
        self.assertEqual(cells[3][1:], ["USD", "200.00", "200.00 USD"])
        self.assertEqual(len(cells), 3 + 4)  # Split, Weighted, VM, Circuit

    def test_unconverted_currency_is_named(self):
        self.user.is_superuser = True
        self.user.save()
        factories.ContractAssignmentFactory(contract=self.later, assigned_object=self.other)
        self.later.assignments.filter(assigned_object_id=self.d2.pk).delete()
        cells = self.cells(self.other)
        self.assertIn(["Own", "GBP", "40.00", "no exchange rate"], cells)
        total = next(row for row in cells if "Total" in row[0])
        self.assertEqual(total[3], "33.00 USD (GBP not converted: no exchange rate)")

    def test_tenant_rows(self):
        self.user.is_superuser = True
        self.user.save()
        cells = self.cells(self.t1)
        self.assertEqual(cells[0], ["Own", "USD", "120.00", "120.00 USD"])
        self.assertIn("Total", cells[1][0])
        self.assertEqual([row[2] for row in cells[2:]], ["100.00", "20.00"])

    def test_restricted_to_the_viewer(self):
        viewer = User.objects.get(pk=restricted_viewer().pk)
        cells = self.cells(self.t1, viewer)
        # Split over D1 and K1 only: 150 to D1 (T1); VM 20.
        self.assertEqual(cells[0], ["Own", "USD", "170.00", "170.00 USD"])
        nobody = User.objects.create_user(username="nobody")
        self.assertEqual(self.rows(self.region, nobody), [])

    def test_page_shows_panel_only_with_contract_permission(self):
        self.add_permissions("dcim.view_location")
        url = reverse("dcim:location", kwargs={"pk": self.city.pk})
        self.assertNotIn("MONTHLY COST", self.client.get(url).content.decode().upper().replace("\n", ""))
        self.add_permissions("nautobot_contracts.view_contract", "nautobot_contracts.view_contractassignment")
        content = self.client.get(url).content.decode()
        self.assertIn("305.00", content)
        self.assertIn(self.split.get_absolute_url(), content)

    def test_query_count_independent_of_assignments(self):
        self.add_permissions(
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_contractassignment",
            "nautobot_contracts.view_exchangerate",
        )
        request = RequestFactory().get("/")
        request.user = self.user

        def render():
            with CaptureQueriesContext(connection) as captured:
                MonthlyCostPanel().render(Context({"object": self.region, "request": request}))
            return len(captured)

        render()  # permissions and content types cached
        few = render()
        for index in range(12):
            contract = factories.ContractFactory(name=f"More {index}", currency=("USD", "EUR")[index % 2])
            target = (self.site, self.city, factories.make_device(f"more-{index}", location=self.site))[index % 3]
            factories.ContractAssignmentFactory(contract=contract, assigned_object=target)
        self.assertEqual(render(), few + 1)  # EUR now appears under the region: its rate is read once
        self.assertLessEqual(few + 1, 3)  # the allocation statement, the rates, the top contracts
