"""No 500 for any input: filter values the database refuses, malformed bodies and URLs, unicode, and what a viewer sees.

Each case here was a server error (or a silent wrong answer) found by a schemathesis run; the fixes live in the app's
base classes (filter_inputs.ContractsFilterSetMixin, api.base), so every model inherits them.
"""

import json

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator
import jsonschema
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.dcim.models import Location
from nautobot.users.models import ObjectPermission
from rest_framework import status

from nautobot_contracts import filters
from nautobot_contracts.models import Contract, ServiceProvider
from tests import factories

API = "plugins-api:nautobot_contracts-api"
LIST_NAMES = (
    "serviceprovider",
    "contract",
    "invoice",
    "contractassignment",
    "contractattachment",
    "invoiceattachment",
    "costsnapshot",
    "exchangerate",
)
WRITABLE_LIST_NAMES = tuple(name for name in LIST_NAMES if name != "costsnapshot")


class SuperuserAPITestCase(APITestCase):
    """APITestCase whose token user is a superuser (robustness, not permissions, is under test)."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def get(self, url, params=""):
        return self.client.get(f"{url}?{params}" if params else url, **self.header)

    def assert_400_naming(self, response, name):
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn(name, json.dumps(response.json()))


class FilterValueTest(SuperuserAPITestCase):
    """Filter values PostgreSQL refuses are a 400 naming the parameter, on every endpoint and in the UI."""

    @classmethod
    def setUpTestData(cls):
        factories.ContractFactory(name="Kept")

    BAD_VALUES = (
        ("name", "%00"),
        ("name", "a%00b"),
        ("name__ic", "%00"),
        ("q", "%00"),
        ("provider", "%00"),
        ("name__re", "("),
        ("name__re", "[a-"),
        ("name__re", "*"),
        ("name__nre", "("),
        ("name__ire", "(?P<x>a)"),  # Python accepts named groups; PostgreSQL does not
        ("end_date__year", "10000"),
        ("end_date__year", "0"),
        ("end_date__year", "99999999999999999999"),
        ("end_date__month", "13"),
        ("end_date__month", "99999999999999999999"),
        ("created__gt", "0245-12-02T10:27:19-21:48"),
        ("created", "0001-01-01T00:00:00%2B05:00"),
        ("last_updated__lte", "9999-12-31T23:59:59-05:00"),
        ("notice_period_days", "99999999999999999999"),
        ("notice_period_days__gte", "-99999999999999999999"),
    )

    def test_contract_list_refuses_bad_values_with_400(self):
        url = reverse(f"{API}:contract-list")
        for name, value in self.BAD_VALUES:
            with self.subTest(name=name, value=value):
                self.assert_400_naming(self.get(url, f"{name}={value}"), name)
        # Good values still filter.
        self.assertEqual(self.get(url, "name__re=^Ke").json()["count"], 1)
        self.assertEqual(self.get(url, "end_date__year=9999").json()["count"], 0)
        self.assertEqual(self.get(url, "created__gt=2000-01-01T00:00:00-05:00").json()["count"], 1)

    def test_every_list_endpoint_refuses_nul_and_bad_regex(self):
        for name in LIST_NAMES:
            url = reverse(f"{API}:{name}-list")
            with self.subTest(endpoint=name):
                self.assert_400_naming(self.get(url, "id=%00"), "id")
                self.assert_400_naming(self.get(url, "q=%00"), "q")
                self.assert_400_naming(self.get(url, "created__gt=0245-12-02T10:27:19-21:48"), "created__gt")

    def test_filterset_errors_name_the_parameter(self):
        filterset = filters.ContractFilterSet({"name__re": ["("], "end_date__year": ["0"]})
        self.assertFalse(filterset.is_valid())
        self.assertEqual(set(filterset.errors), {"name__re", "end_date__year"})
        self.assertIn("regular expression", str(filterset.errors["name__re"]))

    def test_exclude_m2m_must_be_a_boolean(self):
        for name in LIST_NAMES:
            with self.subTest(endpoint=name):
                self.assert_400_naming(self.get(reverse(f"{API}:{name}-list"), "exclude_m2m=maybe"), "exclude_m2m")
        self.assertHttpStatus(self.get(reverse(f"{API}:contract-list"), "exclude_m2m=false"), status.HTTP_200_OK)

    def test_device_coverage_filter_refuses_non_booleans(self):
        url = reverse("dcim-api:device-list")
        for name in ("has_contract_coverage", "nautobot_contracts_has_contract_coverage"):
            with self.subTest(name=name):
                self.assert_400_naming(self.get(url, f"{name}=maybe"), name)
                self.assertHttpStatus(self.get(url, f"{name}=false"), status.HTTP_200_OK)

    def test_membership_booleans_refuse_non_booleans(self):
        self.assert_400_naming(self.get(reverse(f"{API}:contract-list"), "has_invoices=maybe"), "has_invoices")


class FilterValueUITest(TestCase):
    """The UI list views show the filter error instead of answering 500."""

    user_permissions = ["nautobot_contracts.view_contract"]

    def test_list_view_shows_the_error(self):
        url = reverse("plugins:nautobot_contracts:contract_list")
        for params in ("name=%00", "name__re=(", "end_date__year=10000"):
            with self.subTest(params=params):
                response = self.client.get(f"{url}?{params}")
                self.assertHttpStatus(response, status.HTTP_200_OK)
                self.assertNotIn("Kept", response.content.decode())


class BadURLTest(SuperuserAPITestCase):
    """A detail or notes URL whose id is no id answers 404."""

    def test_bad_ids_are_404(self):
        for name in LIST_NAMES:
            with self.subTest(endpoint=name):
                base = reverse(f"{API}:{name}-list")
                for bad in ("0", "not-a-uuid", "2026-13-45", "%00"):
                    self.assertHttpStatus(self.get(f"{base}{bad}/"), status.HTTP_404_NOT_FOUND)
                    if name != "costsnapshot":
                        self.assertHttpStatus(self.get(f"{base}{bad}/notes/"), status.HTTP_404_NOT_FOUND)


class BadBodyTest(SuperuserAPITestCase):
    """JSON bodies of the wrong shape or depth are a 400 that changes nothing."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(name="Body")

    def send(self, method, url, body, content_type="application/json"):
        return getattr(self.client, method)(url, body, content_type=content_type, **self.header)

    def test_string_or_list_where_an_object_is_expected(self):
        for name in WRITABLE_LIST_NAMES:
            list_url = reverse(f"{API}:{name}-list")
            detail_url = f"{list_url}{self.contract.pk}/" if name == "contract" else None
            for body in ('"text"', "42", "null", "true"):
                with self.subTest(endpoint=name, body=body):
                    self.assertHttpStatus(self.send("post", list_url, body), status.HTTP_400_BAD_REQUEST)
                    for method in ("put", "patch", "delete"):
                        self.assertHttpStatus(self.send(method, list_url, body), status.HTTP_400_BAD_REQUEST)
            with self.subTest(endpoint=name, body="list of strings"):
                self.assertHttpStatus(self.send("post", list_url, '["a", 1]'), status.HTTP_400_BAD_REQUEST)
                for method in ("put", "patch", "delete"):
                    self.assertHttpStatus(self.send(method, list_url, '["a", 1]'), status.HTTP_400_BAD_REQUEST)
            if detail_url:
                for method in ("put", "patch"):
                    for body in ('"text"', '[{"name": "x"}]', "[]"):
                        with self.subTest(endpoint=name, method=method, body=body):
                            self.assertHttpStatus(self.send(method, detail_url, body), status.HTTP_400_BAD_REQUEST)
        self.assertEqual(Contract.objects.get().name, "Body")

    def test_form_body_on_bulk_list_operations(self):
        for name in WRITABLE_LIST_NAMES:
            list_url = reverse(f"{API}:{name}-list")
            for method in ("put", "patch", "delete"):
                for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=BoUnDaRy"):
                    body = "id=1&name=x" if content_type.startswith("application") else "--BoUnDaRy--\r\n"
                    with self.subTest(endpoint=name, method=method, content_type=content_type):
                        response = self.send(method, list_url, body, content_type)
                        self.assertIn(
                            response.status_code, (status.HTTP_400_BAD_REQUEST, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
                        )

    def test_deeply_nested_json(self):
        url = reverse(f"{API}:contract-detail", kwargs={"pk": self.contract.pk})
        for depth in (100, 100_000):
            with self.subTest(depth=depth):
                body = '{"custom_fields": ' + "[" * depth + "]" * depth + "}"
                response = self.send("patch", url, body)
                self.assert_400_naming(response, "deep")
        shallow = '{"description": "ok", "custom_fields": {}}'
        self.assertHttpStatus(self.send("patch", url, shallow), status.HTTP_200_OK)


class UnicodeTest(SuperuserAPITestCase):
    """Names in any script round-trip through create, read and filter."""

    def test_unicode_names_round_trip(self):
        provider = factories.ServiceProviderFactory(name="Acme")
        url = reverse(f"{API}:contract-list")
        for name in ("😀 Support", "عقد الدعم", "שירות", "Ωmega ∑", "a\u200bb"):
            with self.subTest(name=name):
                body = {
                    "name": name,
                    "provider": str(provider.pk),
                    "status": "Active",
                    "contract_type": "support",
                    "start_date": "2026-01-01",
                    "end_date": "2026-12-31",
                    "recurring_cost": "10.00",
                    "currency": "EUR",
                }
                response = self.client.post(url, body, format="json", **self.header)
                self.assertHttpStatus(response, status.HTTP_201_CREATED)
                self.assertEqual(response.json()["name"], name)
                self.assertEqual(self.get(url, f"name={response.json()['name']}").json()["count"], 1)
        response = self.client.post(
            reverse(f"{API}:serviceprovider-list"), {"name": "供应商 🚀"}, format="json", **self.header
        )
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        self.assertTrue(ServiceProvider.objects.filter(name="供应商 🚀").exists())


class AssignmentVisibilityTest(APITestCase):
    """An assignment shows its target's display and url only to a user who may view the target."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(name="Support")
        region = factories.make_location("Secret Region", location_type_name="Region")
        cls.sites = [factories.make_location(f"Secret Site {index}", parent=region) for index in range(3)]
        cls.assignments = [
            factories.ContractAssignmentFactory(contract=cls.contract, assigned_object=site) for site in cls.sites
        ]
        cls.tenant = factories.make_tenant("Open Tenant")
        cls.visible = factories.ContractAssignmentFactory(contract=cls.contract, assigned_object=cls.tenant)

    def setUp(self):
        super().setUp()
        self.add_permissions(
            "nautobot_contracts.view_contractassignment",
            "nautobot_contracts.change_contractassignment",
            "nautobot_contracts.view_contract",
            "tenancy.view_tenant",
        )

    def assert_hidden(self, data, site):
        self.assertEqual(data["object_type"], "dcim.location")
        self.assertEqual(data["id"], str(site.pk))
        self.assertIsNone(data["display"])
        self.assertIsNone(data["url"])
        self.assertNotIn("Secret", json.dumps(data))

    def test_list_at_every_depth(self):
        url = reverse(f"{API}:contractassignment-list")
        for depth in (0, 1, 2):
            with self.subTest(depth=depth):
                response = self.client.get(f"{url}?depth={depth}", **self.header)
                self.assertHttpStatus(response, status.HTTP_200_OK)
                rows = {row["id"]: row for row in response.json()["results"]}
                for assignment, site in zip(self.assignments, self.sites, strict=True):
                    self.assert_hidden(rows[str(assignment.pk)]["assigned_object"], site)
                    self.assertNotIn("Secret", json.dumps(rows[str(assignment.pk)]))
                self.assertEqual(rows[str(self.visible.pk)]["assigned_object"]["display"], "Open Tenant")

    def test_detail_and_write_response(self):
        url = reverse(f"{API}:contractassignment-detail", kwargs={"pk": self.assignments[0].pk})
        for depth in (0, 1):
            with self.subTest(depth=depth):
                data = self.client.get(f"{url}?depth={depth}", **self.header).json()
                self.assert_hidden(data["assigned_object"], self.sites[0])
                self.assertNotIn("Secret", data["display"])
        # A write re-validates the target as the user sees it: refused, without naming it.
        response = self.client.patch(url, {"comments": "seen"}, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertNotIn("Secret", response.content.decode())

    def test_object_permission_constraints_apply(self):
        permission = ObjectPermission.objects.create(
            name="One site", actions=["view"], constraints={"name": "Secret Site 1"}
        )
        permission.object_types.add(ContentType.objects.get_for_model(Location))
        permission.users.add(self.user)
        url = reverse(f"{API}:contractassignment-list")
        rows = {row["id"]: row for row in self.client.get(url, **self.header).json()["results"]}
        self.assertEqual(
            rows[str(self.assignments[1].pk)]["assigned_object"]["display"], "Secret Region → Secret Site 1"
        )
        for index in (0, 2):
            self.assert_hidden(rows[str(self.assignments[index].pk)]["assigned_object"], self.sites[index])

    def test_one_query_per_page_whatever_its_size(self):
        url = reverse(f"{API}:contractassignment-list")
        self.client.get(url, **self.header)  # warm the permission and content type caches
        # Both pages hold both target types (locations sort before tenants): one query per type, whatever the size.
        with CaptureQueriesContext(connection) as few:
            self.client.get(f"{url}?limit=2&offset=2", **self.header)
        with CaptureQueriesContext(connection) as many:
            self.client.get(f"{url}?limit=4", **self.header)
        self.assertEqual(len(few), len(many), "\n".join(q["sql"] for q in many.captured_queries))


def openapi_to_json_schema(node):
    """An OpenAPI 3.0 schema fragment as JSON Schema: `nullable` becomes a null alternative, refs point at $defs."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: openapi_to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


class OpenAPISchemaTruthTest(SuperuserAPITestCase):
    """Real responses, sparse ones included, validate against the app's generated OpenAPI schema."""

    @classmethod
    def setUpTestData(cls):
        from tests.test_api import make_contract_attachment, make_invoice_attachment  # noqa: PLC0415 (shared helpers)

        active = factories.ContractFactory(name="In force")
        pending = factories.ContractFactory(name="Pending", status=factories.status_for(Contract, "Pending"))
        invoice = factories.InvoiceFactory(contract=active)
        cls.objects = {
            "serviceprovider": active.provider,
            "contract": pending,
            "invoice": invoice,
            "contractassignment": factories.ContractAssignmentFactory(
                contract=active, assigned_object=factories.make_tenant()
            ),
            "contractattachment": make_contract_attachment(active, "sow"),
            "invoiceattachment": make_invoice_attachment(invoice, "bill"),
            "costsnapshot": factories.CostSnapshotFactory(),
            "exchangerate": factories.ExchangeRateFactory(),
        }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        generator = SchemaGenerator(patterns=[path("api/plugins/contracts/", include("nautobot_contracts.api.urls"))])
        cls.schema = generator.get_schema(request=None, public=True)
        cls.definitions = openapi_to_json_schema(cls.schema["components"]["schemas"])

    def validator(self, detail_path):
        response_schema = self.schema["paths"][detail_path]["get"]["responses"]["200"]["content"]["application/json"]
        return jsonschema.Draft202012Validator(
            {**openapi_to_json_schema(response_schema["schema"]), "$defs": self.definitions}
        )

    def test_responses_match_the_schema(self):
        for name, instance in self.objects.items():
            list_url = reverse(f"{API}:{name}-list")
            detail_path = list_url.removeprefix("/api") + "{id}/"
            validator = self.validator(detail_path)
            for params in ("", "fields=id", "fields=display,url", "omit=id,display", "fields=nothing", "depth=1"):
                with self.subTest(endpoint=name, params=params):
                    detail = self.get(f"{list_url}{instance.pk}/", params)
                    self.assertHttpStatus(detail, status.HTTP_200_OK)
                    errors = [error.message for error in validator.iter_errors(detail.json())]
                    self.assertEqual(errors, [], detail.json())
                    for row in self.get(list_url, params).json()["results"]:
                        self.assertEqual([error.message for error in validator.iter_errors(row)], [], row)

    def test_not_in_force_contract_has_null_renewal_figures(self):
        data = self.get(reverse(f"{API}:contract-detail", kwargs={"pk": self.objects["contract"].pk})).json()
        self.assertIsNone(data["notice_deadline"])
        component = self.schema["components"]["schemas"]["Contract"]
        self.assertTrue(component["properties"]["notice_deadline"].get("nullable"))

    def test_request_bodies_keep_their_required_fields(self):
        components = self.schema["components"]["schemas"]
        self.assertNotIn("required", components["Contract"])
        self.assertLessEqual(
            {"name", "provider", "start_date", "end_date"}, set(components["ContractRequest"]["required"])
        )
