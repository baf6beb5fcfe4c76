"""REST API: Nautobot's standard API test cases for every model, plus the app's own behaviour.

Covers CRUD and bulk operations, read-only cost snapshots (405), computed contract figures, assignment
representation and validation, attachment upload and limits, sparse fieldsets and list query counts.
"""

import datetime
from decimal import Decimal
import hashlib
import shutil
import tempfile
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, include, path, reverse
from drf_spectacular.generators import SchemaGenerator
from nautobot.apps.testing import APITestCase, APIViewTestCases
from nautobot.extras.models import Tag
from nautobot.users.models import ObjectPermission
from nautobot.virtualization.models import Cluster, ClusterType, VirtualMachine
from rest_framework import status

from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    ContractAttachment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)
from tests import factories

API = "plugins-api:nautobot_contracts-api"
MEDIA_ROOT = tempfile.mkdtemp(prefix="nautobot-contracts-api-tests-")
PDF = b"%PDF-1.4\n% test document\n"


def pdf_upload(name="signed.pdf", content=PDF):
    """A small in-memory PDF upload."""
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def make_contract_attachment(contract, name, content=PDF):
    """A saved contract attachment with a real stored file."""
    attachment = ContractAttachment(contract=contract, name=name, file=pdf_upload(f"{name}.pdf", content))
    attachment.validated_save()
    return attachment


def make_invoice_attachment(invoice, name, content=PDF):
    """A saved invoice attachment with a real stored file."""
    attachment = InvoiceAttachment(invoice=invoice, name=name, file=pdf_upload(f"{name}.pdf", content))
    attachment.validated_save()
    return attachment


def tearDownModule():  # noqa: N802 (unittest's name)
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)


#
# Nautobot's standard API test cases, one per model
#


class ServiceProviderAPITest(APIViewTestCases.APIViewTestCase):
    model = ServiceProvider
    choices_fields = ()
    update_data = {"description": "Updated through the API", "support_phone": "+1 555 0100"}
    bulk_update_data = {"description": "Bulk-updated"}

    @classmethod
    def setUpTestData(cls):
        for index in range(4):
            factories.ServiceProviderFactory(name=f"Provider {index}")
        cls.create_data = [
            {"name": "Acme Networks", "account_number": "ACME-1", "support_email": "noc@acme.example"},
            {"name": "Globex Carrier", "portal_url": "https://portal.globex.example/"},
            {"name": "Initech Colo", "description": "Colocation in three cities"},
        ]


class ContractAPITest(APIViewTestCases.APIViewTestCase):
    model = Contract
    choices_fields = ("contract_type", "billing_period", "unit")
    update_data = {"description": "Renegotiated", "recurring_cost": Decimal("250.00"), "notice_period_days": 60}
    bulk_update_data = {"cost_center": "CC-42"}

    @classmethod
    def setUpTestData(cls):
        cls.provider = factories.ServiceProviderFactory(name="Acme")
        for index in range(4):
            factories.ContractFactory(provider=cls.provider, name=f"Support {index}")
        active = factories.status_for(Contract, "Active")
        pending = factories.status_for(Contract, "Pending")
        cls.create_data = [
            {
                "name": "New support contract",
                "provider": cls.provider.pk,
                "status": active.pk,
                "start_date": datetime.date(2026, 1, 1),
                "end_date": datetime.date(2026, 12, 31),
                "recurring_cost": Decimal("1200.00"),
                "billing_period": "annual",
                "currency": "USD",
            },
            {
                "name": "Colocation",
                "contract_number": "COLO-7",
                "provider": cls.provider.pk,
                "status": pending.pk,
                "contract_type": "colocation",
                "start_date": datetime.date(2026, 3, 1),
                "end_date": datetime.date(2027, 2, 28),
                "recurring_cost": Decimal("300.00"),
                "currency": "EUR",
                "auto_renew": True,
                "notice_period_days": 90,
                "renewal_term_months": 6,
            },
            {
                "name": "One-time licence",
                "provider": cls.provider.pk,
                "status": pending.pk,
                "contract_type": "license",
                "start_date": datetime.date(2026, 1, 1),
                "end_date": datetime.date(2026, 1, 31),
                "billing_period": "one_time",
                "one_time_cost": Decimal("5000.00"),
                "currency": "GBP",
                "quantity": 250,
                "unit": "licences",
            },
        ]


class InvoiceAPITest(APIViewTestCases.APIViewTestCase):
    model = Invoice
    choices_fields = ()
    update_data = {"amount": Decimal("120.50"), "description": "Corrected amount"}
    bulk_update_data = {"description": "Reviewed"}

    @classmethod
    def setUpTestData(cls):
        contract = factories.ContractFactory(name="Billed contract")
        for index in range(4):
            factories.InvoiceFactory(contract=contract, invoice_number=f"INV-{index}")
        open_status = factories.status_for(Invoice, "Open")
        cls.create_data = [
            {
                "contract": contract.pk,
                "invoice_number": "INV-100",
                "invoice_date": datetime.date(2026, 3, 1),
                "amount": Decimal("100.00"),
                "status": open_status.pk,
            },
            {
                "contract": contract.pk,
                "invoice_number": "INV-101",
                "invoice_date": datetime.date(2026, 4, 1),
                "period_start": datetime.date(2026, 3, 1),
                "period_end": datetime.date(2026, 3, 31),
                "amount": Decimal("100.00"),
                "currency": "USD",
                "status": open_status.pk,
            },
            {
                "contract": contract.pk,
                "invoice_number": "INV-102",
                "invoice_date": datetime.date(2026, 5, 1),
                "paid_date": datetime.date(2026, 5, 10),
                "amount": Decimal("99.99"),
                "status": factories.status_for(Invoice, "Paid").pk,
            },
        ]


class ContractAssignmentAPITest(APIViewTestCases.APIViewTestCase):
    model = ContractAssignment
    choices_fields = ("assigned_object_type",)
    update_data = {"comments": "Covers the spare too", "coverage_start": datetime.date(2026, 2, 1)}
    bulk_update_data = {"comments": "Audited"}

    @classmethod
    def setUpTestData(cls):
        contract = factories.ContractFactory(name="Assigned contract")
        location = factories.make_location()
        for index in range(4):
            factories.ContractAssignmentFactory(
                contract=contract, assigned_object=factories.make_device(f"assigned-{index}", location=location)
            )
        cls.create_data = [
            {
                "contract": contract.pk,
                "assigned_object_type": "dcim.device",
                "assigned_object_id": factories.make_device("new-1", location=location).pk,
            },
            {
                "contract": contract.pk,
                "assigned_object_type": "dcim.location",
                "assigned_object_id": location.pk,
                "coverage_start": datetime.date(2026, 3, 1),
                "coverage_end": datetime.date(2026, 6, 30),
            },
            {
                "contract": contract.pk,
                "assigned_object_type": "tenancy.tenant",
                "assigned_object_id": factories.make_tenant().pk,
                "comments": "Whole tenant",
                "allocation_weight": Decimal("2.5000"),
                "quantity": 40,
            },
        ]

    def setUp(self):
        super().setUp()
        # The assignment's display names its target only to a user who may view it (AssignmentVisibilityTest in
        # test_robustness covers the other case); the generic CSV test compares it with str(instance).
        self.add_permissions("dcim.view_device", "dcim.view_location", "tenancy.view_tenant")

    def get_depth_fields(self):
        # The generic `assigned_object` deliberately carries `display` at depth 0, unlike core's three-key brief form
        # that test_list_objects_depth_0 checks; AssignmentRepresentationTest covers its shape at every depth.
        return [name for name in super().get_depth_fields() if name != "assigned_object"]


class ExchangeRateAPITest(APIViewTestCases.APIViewTestCase):
    model = ExchangeRate
    choices_fields = ()
    update_data = {"rate": Decimal("1.125"), "description": "ECB reference"}
    bulk_update_data = {"description": "Imported"}

    @classmethod
    def setUpTestData(cls):
        for index, currency in enumerate(["EUR", "GBP", "JPY", "CHF"]):
            factories.ExchangeRateFactory(currency=currency, effective_date=datetime.date(2026, 1, 1 + index))
        cls.create_data = [
            {"currency": "EUR", "rate": Decimal("1.08"), "effective_date": datetime.date(2026, 2, 1)},
            {"currency": "GBP", "rate": Decimal("1.27"), "effective_date": datetime.date(2026, 2, 1)},
            {
                "currency": "SEK",
                "rate": Decimal("0.095"),
                "effective_date": datetime.date(2026, 2, 1),
                "description": "Monthly",
            },
        ]


class ParentRuleDepthTestMixin:
    """Nautobot's generic depth-1 constrained-permission tests assume a related object the user may not view; an
    attachment is visible only with view permission on its parent, so its parent is always shown in full."""

    parent_field = None
    parent_full_key = None

    def _check_depth_1(self, url):
        self.add_permissions(f"nautobot_contracts.view_{self.model._meta.model_name}")
        response = self.client.get(f"{url}?depth=1", **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        body = response.json()
        entries = body["results"] if "results" in body else [body]
        self.assertTrue(entries)
        for entry in entries:
            self.assertIn(self.parent_full_key, entry[self.parent_field])

    def test_get_object_depth_1_constrained_permission(self):
        instance = self._get_queryset().first()
        self._check_depth_1(self._get_detail_url(instance))

    def test_list_objects_depth_1_constrained_permission(self):
        self._check_depth_1(self._get_list_url())

    def test_parent_view_is_required(self):
        self.add_permissions(f"nautobot_contracts.view_{self.model._meta.model_name}")
        instance = self._get_queryset().first()
        self.assertHttpStatus(self.client.get(self._get_detail_url(instance), **self.header), status.HTTP_200_OK)
        ObjectPermission.objects.filter(name=f"nautobot_contracts.view_{self.parent_field}").delete()
        self.assertHttpStatus(self.client.get(self._get_detail_url(instance), **self.header), status.HTTP_404_NOT_FOUND)


@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class ContractAttachmentAPITest(
    ParentRuleDepthTestMixin,
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
    APIViewTestCases.DeleteObjectViewTestCase,
    APIViewTestCases.NotesURLViewTestCase,
):
    """Creation is a multipart upload, which core's JSON create tests cannot send: AttachmentUploadTest covers it."""

    model = ContractAttachment
    parent_field, parent_full_key = "contract", "recurring_cost"
    choices_fields = ()
    update_data = {"description": "Countersigned copy"}
    bulk_update_data = {"description": "Filed"}
    # "sha256" is the file checksum field here, not a password hash.
    VERBOTEN_STRINGS = tuple(s for s in APITestCase.VERBOTEN_STRINGS if s != "sha256")

    @classmethod
    def setUpTestData(cls):
        contract = factories.ContractFactory()
        for index in range(4):
            make_contract_attachment(contract, f"document-{index}", content=PDF + bytes([index]))

    def setUp(self):
        super().setUp()
        # An attachment is visible only with view permission on its contract too.
        self.add_permissions("nautobot_contracts.view_contract")


@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class InvoiceAttachmentAPITest(
    ParentRuleDepthTestMixin,
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
    APIViewTestCases.DeleteObjectViewTestCase,
    APIViewTestCases.NotesURLViewTestCase,
):
    """Creation is a multipart upload: AttachmentUploadTest covers it."""

    model = InvoiceAttachment
    parent_field, parent_full_key = "invoice", "amount"
    choices_fields = ()
    update_data = {"description": "Vendor PDF"}
    bulk_update_data = {"description": "Filed"}
    VERBOTEN_STRINGS = tuple(s for s in APITestCase.VERBOTEN_STRINGS if s != "sha256")

    @classmethod
    def setUpTestData(cls):
        invoice = factories.InvoiceFactory()
        for index in range(4):
            make_invoice_attachment(invoice, f"invoice-pdf-{index}")

    def setUp(self):
        super().setUp()
        # An attachment is visible only with view permission on its invoice (and that invoice's contract) too.
        self.add_permissions("nautobot_contracts.view_invoice", "nautobot_contracts.view_contract")


class CostSnapshotAPITest(APIViewTestCases.GetObjectViewTestCase, APIViewTestCases.ListObjectsViewTestCase):
    """Cost snapshots are readable; every write, single or bulk, answers 405 even for a superuser."""

    model = CostSnapshot

    @classmethod
    def setUpTestData(cls):
        for index in range(3):
            factories.CostSnapshotFactory(snapshot_date=datetime.date(2026, 1, 1 + index))
            factories.CostSnapshotFactory(snapshot_date=datetime.date(2026, 1, 1 + index), currency="EUR")

    def setUp(self):
        super().setUp()
        self.snapshot = CostSnapshot.objects.first()
        self.detail_url = reverse(f"{API}:costsnapshot-detail", kwargs={"pk": self.snapshot.pk})
        self.list_url = reverse(f"{API}:costsnapshot-list")
        self.body = {"snapshot_date": "2026-02-01", "currency": "USD", "monthly_burn": "1.00", "renewal_90d": "0.00"}

    def assert_not_allowed(self, response):
        self.assertHttpStatus(response, status.HTTP_405_METHOD_NOT_ALLOWED)

    def test_writes_not_allowed_for_superuser(self):
        self.user.is_superuser = True
        self.user.save()
        before = list(CostSnapshot.objects.order_by("pk").values())
        self.assert_not_allowed(self.client.post(self.list_url, self.body, format="json", **self.header))
        self.assert_not_allowed(self.client.put(self.detail_url, self.body, format="json", **self.header))
        self.assert_not_allowed(
            self.client.patch(self.detail_url, {"monthly_burn": "2.00"}, format="json", **self.header)
        )
        self.assert_not_allowed(self.client.delete(self.detail_url, **self.header))
        bulk = [{"id": str(self.snapshot.pk), "monthly_burn": "2.00"}]
        self.assert_not_allowed(self.client.put(self.list_url, bulk, format="json", **self.header))
        self.assert_not_allowed(self.client.patch(self.list_url, bulk, format="json", **self.header))
        self.assert_not_allowed(
            self.client.delete(self.list_url, [{"id": str(self.snapshot.pk)}], format="json", **self.header)
        )
        self.assertEqual(list(CostSnapshot.objects.order_by("pk").values()), before)

    def test_writes_not_allowed_with_object_permissions(self):
        self.add_permissions(
            "nautobot_contracts.add_costsnapshot",
            "nautobot_contracts.change_costsnapshot",
            "nautobot_contracts.delete_costsnapshot",
        )
        self.assert_not_allowed(self.client.post(self.list_url, self.body, format="json", **self.header))
        self.assert_not_allowed(
            self.client.patch(self.detail_url, {"monthly_burn": "2.00"}, format="json", **self.header)
        )
        self.assert_not_allowed(self.client.delete(self.detail_url, **self.header))
        self.assertTrue(CostSnapshot.objects.filter(pk=self.snapshot.pk).exists())

    def test_options_lists_only_read_methods(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.options(self.list_url, **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        allowed = {method.strip() for method in response["Allow"].split(",")}
        self.assertEqual(allowed, {"GET", "HEAD", "OPTIONS"})


#
# The app's own API behaviour
#

AS_OF = datetime.date(2026, 6, 15)


@mock.patch("nautobot_contracts.api.serializers.as_of_today", return_value=AS_OF)
class ContractComputedFieldsTest(APITestCase):
    """monthly_cost, current_term_end, notice_deadline and renewal_tier, worked out by hand for 15 June 2026."""

    @classmethod
    def setUpTestData(cls):
        provider = factories.ServiceProviderFactory(name="Acme")
        pending = factories.status_for(Contract, "Pending")
        cls.soon = factories.ContractFactory(
            provider=provider,
            name="Soon",
            recurring_cost=Decimal("12.06"),
            billing_period="annual",
            end_date=datetime.date(2026, 7, 31),
            notice_period_days=30,
        )
        cls.missed = factories.ContractFactory(
            provider=provider,
            name="Missed, rolled over",
            recurring_cost=Decimal("300.00"),
            billing_period="quarterly",
            start_date=datetime.date(2024, 7, 1),
            end_date=datetime.date(2025, 6, 30),
            auto_renew=True,
            renewal_term_months=12,
            notice_period_days=30,
        )
        cls.urgent = factories.ContractFactory(
            provider=provider,
            name="Urgent auto-renewal",
            recurring_cost=Decimal("1000.00"),
            billing_period="semiannual",
            end_date=datetime.date(2026, 7, 10),
            auto_renew=True,
        )
        cls.pending = factories.ContractFactory(
            provider=provider,
            name="Pending one-time",
            status=pending,
            recurring_cost=Decimal("999.00"),
            billing_period="one_time",
            end_date=datetime.date(2026, 7, 1),
        )
        cls.far = factories.ContractFactory(provider=provider, name="Far", end_date=datetime.date(2027, 12, 31))

    def setUp(self):
        super().setUp()
        # Natural-key lookups in write bodies only see related objects the user may view.
        self.add_permissions(
            "nautobot_contracts.view_contract", "nautobot_contracts.view_serviceprovider", "extras.view_status"
        )

    def get_contract(self, contract):
        response = self.client.get(reverse(f"{API}:contract-detail", kwargs={"pk": contract.pk}), **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        return response.json()

    def test_figures_by_hand(self, _today):
        expected = {
            # 12.06 / 12 = 1.005 rounds half-up to 1.01; deadline 1 July is 16 days away: soon.
            self.soon: ("1.01", "2026-07-31", "2026-07-01", "soon"),
            # 30 June 2025 rolls to 30 June 2026; deadline 31 May has passed before the term ends: missed.
            self.missed: ("100.00", "2026-06-30", "2026-05-31", "missed"),
            # 1000 / 6 = 166.666...; no notice period, deadline = term end, 25 days: urgent (2 x 14 when auto-renewing).
            self.urgent: ("166.67", "2026-07-10", "2026-07-10", "urgent"),
            # One-time costs nothing per month; a pending contract is not in force: its end date, no deadline, no tier.
            self.pending: ("0.00", "2026-07-01", None, None),
            # Active but due outside the 90-day window.
            self.far: ("100.00", "2027-12-31", "2027-12-31", None),
        }
        for contract, (monthly, term_end, deadline, tier) in expected.items():
            with self.subTest(contract=contract.name):
                data = self.get_contract(contract)
                self.assertEqual(data["monthly_cost"], monthly)
                self.assertEqual(data["current_term_end"], term_end)
                self.assertEqual(data["notice_deadline"], deadline)
                self.assertEqual(data["renewal_tier"], tier)

    def test_list_matches_detail(self, _today):
        response = self.client.get(reverse(f"{API}:contract-list"), **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        computed = ("monthly_cost", "current_term_end", "notice_deadline", "renewal_tier")
        for row in response.json()["results"]:
            detail = self.get_contract(Contract.objects.get(pk=row["id"]))
            self.assertEqual({k: row[k] for k in computed}, {k: detail[k] for k in computed})

    def test_figures_follow_the_date(self, today):
        today.return_value = datetime.date(2026, 7, 20)
        # The 1 July deadline has passed and the term (31 July) has not ended: missed.
        self.assertEqual(self.get_contract(self.soon)["renewal_tier"], "missed")
        # 10 July 2026 has passed for the auto-renewing contract: it rolled one 12-month term, far from due.
        data = self.get_contract(self.urgent)
        self.assertEqual(data["current_term_end"], "2027-07-10")
        self.assertIsNone(data["renewal_tier"])

    def test_computed_fields_are_read_only(self, _today):
        self.add_permissions("nautobot_contracts.change_contract")
        url = reverse(f"{API}:contract-detail", kwargs={"pk": self.soon.pk})
        body = {"monthly_cost": "999.99", "renewal_tier": "upcoming", "description": "x"}
        response = self.client.patch(url, body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        self.assertEqual(response.json()["monthly_cost"], "1.01")
        self.assertEqual(response.json()["renewal_tier"], "soon")
        self.soon.refresh_from_db()
        self.assertEqual(self.soon.recurring_cost, Decimal("12.06"))

    def test_natural_key_foreign_keys_in_write_body(self, _today):
        self.add_permissions("nautobot_contracts.add_contract")
        body = {
            "name": "By natural key",
            "provider": {"name": "Acme"},
            "status": {"name": "Active"},
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "currency": "eur",
            "recurring_cost": "10.00",
        }
        response = self.client.post(reverse(f"{API}:contract-list"), body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        contract = Contract.objects.get(pk=response.json()["id"])
        self.assertEqual(contract.provider.name, "Acme")
        self.assertEqual(contract.status.name, "Active")
        self.assertEqual(contract.currency, "EUR")

        body.update(name="Unknown provider", provider={"name": "Nobody"})
        response = self.client.post(reverse(f"{API}:contract-list"), body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("provider", response.json())
        self.assertFalse(Contract.objects.filter(name="Unknown provider").exists())

    def test_model_validation_errors_are_field_errors(self, _today):
        self.add_permissions("nautobot_contracts.add_contract")
        body = {
            "name": "Backwards",
            "provider": {"name": "Acme"},
            "status": {"name": "Active"},
            "start_date": "2026-12-31",
            "end_date": "2026-01-01",
            "currency": "XXZ",
        }
        response = self.client.post(reverse(f"{API}:contract-list"), body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("currency", response.json())
        body["currency"] = "USD"
        response = self.client.post(reverse(f"{API}:contract-list"), body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("end_date", response.json())
        self.assertFalse(Contract.objects.filter(name="Backwards").exists())


class AssignmentRepresentationTest(APITestCase):
    """assigned_object at each depth, writes by type + id, and model validation surfacing as field errors."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(name="Support", provider=factories.ServiceProviderFactory(name="Acme"))
        region = factories.make_location("Europe", location_type_name="Region")
        cls.site = factories.make_location("Paris", parent=region)
        cls.device = factories.make_device("edge-1", location=cls.site)
        cls.device_assignment = factories.ContractAssignmentFactory(contract=cls.contract, assigned_object=cls.device)
        cls.site_assignment = factories.ContractAssignmentFactory(contract=cls.contract, assigned_object=cls.site)
        cls.list_url = reverse(f"{API}:contractassignment-list")

    def setUp(self):
        super().setUp()
        self.add_permissions(
            "nautobot_contracts.view_contractassignment",
            "nautobot_contracts.add_contractassignment",
            "nautobot_contracts.change_contractassignment",
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_serviceprovider",
            "dcim.view_device",
            "dcim.view_location",
            "dcim.view_interface",
            "tenancy.view_tenant",
        )

    def detail_url(self, assignment):
        return reverse(f"{API}:contractassignment-detail", kwargs={"pk": assignment.pk})

    def test_brief_object_with_display_at_depth_0(self):
        response = self.client.get(self.detail_url(self.device_assignment), **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        data = response.json()
        self.assertEqual(data["assigned_object_type"], "dcim.device")
        self.assertEqual(data["assigned_object_id"], str(self.device.pk))
        self.assertEqual(
            data["assigned_object"],
            {
                "object_type": "dcim.device",
                "id": str(self.device.pk),
                "display": "edge-1",
                "url": response.wsgi_request.build_absolute_uri(
                    reverse("dcim-api:device-detail", kwargs={"pk": self.device.pk})
                ),
            },
        )
        # A location's display is its full ancestry, loaded for the page without per-object queries.
        response = self.client.get(self.detail_url(self.site_assignment), **self.header)
        self.assertEqual(response.json()["assigned_object"]["display"], "Europe → Paris")

    def test_full_object_at_depth_1(self):
        response = self.client.get(self.detail_url(self.device_assignment) + "?depth=1", **self.header)
        target = response.json()["assigned_object"]
        self.assertEqual(target["id"], str(self.device.pk))
        self.assertEqual(target["name"], "edge-1")
        self.assertTrue(target["generic_foreign_key"])

    def test_depth_1_without_view_permission_on_target_is_brief(self):
        self.remove_permissions("dcim.view_device")
        response = self.client.get(self.detail_url(self.device_assignment) + "?depth=1", **self.header)
        self.assertEqual(set(response.json()["assigned_object"]), {"object_type", "id", "display", "url"})

    def test_create_by_type_and_id(self):
        tenant = factories.make_tenant()
        body = {
            "contract": {"name": "Support", "provider__name": "Acme"},
            "assigned_object_type": "tenancy.tenant",
            "assigned_object_id": str(tenant.pk),
            "coverage_start": "2026-02-01",
        }
        response = self.client.post(self.list_url, body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        assignment = ContractAssignment.objects.get(pk=response.json()["id"])
        self.assertEqual(assignment.assigned_object, tenant)
        self.assertEqual(assignment.contract, self.contract)
        self.assertEqual(response.json()["assigned_object"]["display"], tenant.name)

    def assert_refused(self, body, field, text):
        before = ContractAssignment.objects.count()
        response = self.client.post(self.list_url, body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn(field, response.json())
        self.assertIn(text, " ".join(response.json()[field]))
        self.assertEqual(ContractAssignment.objects.count(), before)

    def test_type_not_assignable(self):
        body = {"contract": str(self.contract.pk), "assigned_object_type": "dcim.interface"}
        body["assigned_object_id"] = str(self.device.pk)
        self.assert_refused(body, "assigned_object_type", "Contracts cannot be assigned to dcim.interface objects")

    @override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"assignable_models": ["dcim.device"]}})
    def test_assignable_types_follow_settings(self):
        body = {"contract": str(self.contract.pk), "assigned_object_type": "dcim.location"}
        body["assigned_object_id"] = str(self.site.pk)
        self.assert_refused(body, "assigned_object_type", "Assignable types: dcim.device")

    def test_unknown_object_id(self):
        body = {"contract": str(self.contract.pk), "assigned_object_type": "dcim.device"}
        body["assigned_object_id"] = str(self.contract.pk)  # a real UUID, but not a device's
        self.assert_refused(body, "assigned_object_id", "not found")

    def test_coverage_window_outside_contract_term(self):
        body = {
            "contract": str(self.contract.pk),
            "assigned_object_type": "tenancy.tenant",
            "assigned_object_id": str(factories.make_tenant().pk),
            "coverage_start": "2025-12-01",
        }
        self.assert_refused(body, "coverage_start", "inside the contract term")

    def test_coverage_window_change_checked_on_patch(self):
        url = self.detail_url(self.device_assignment)
        response = self.client.patch(url, {"coverage_end": "2027-01-31"}, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("coverage_end", response.json())
        self.device_assignment.refresh_from_db()
        self.assertIsNone(self.device_assignment.coverage_end)

    def test_options_offer_only_assignable_types(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.options(self.list_url, **self.header)
        choices = response.json()["actions"]["POST"]["assigned_object_type"]["choices"]
        self.assertEqual(
            sorted(choice["value"] for choice in choices),
            sorted(
                "dcim.device dcim.rack dcim.location circuits.circuit virtualization.virtualmachine "
                "virtualization.cluster tenancy.tenant tenancy.tenantgroup".split()
            ),
        )


@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class AttachmentUploadTest(APITestCase):
    """Multipart upload, the metadata returned, the download link, and the size/extension limits."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(name="Signed")
        cls.invoice = factories.InvoiceFactory(contract=cls.contract)
        cls.list_url = reverse(f"{API}:contractattachment-list")

    def setUp(self):
        super().setUp()
        self.add_permissions(
            "nautobot_contracts.view_contractattachment",
            "nautobot_contracts.add_contractattachment",
            "nautobot_contracts.change_contractattachment",
            "nautobot_contracts.view_invoiceattachment",
            "nautobot_contracts.add_invoiceattachment",
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_invoice",
        )

    def upload(self, url=None, **fields):
        body = {"contract": str(self.contract.pk), "file": pdf_upload(), **fields}
        return self.client.post(url or self.list_url, body, format="multipart", **self.header)

    def expected_download_url(self, response, view_name, pk):
        try:
            return response.wsgi_request.build_absolute_uri(reverse(view_name, kwargs={"pk": pk}))
        except NoReverseMatch:
            return None  # the UI's download view is not installed

    def test_upload_returns_metadata_not_media_url(self):
        response = self.upload(description="Countersigned")
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        data = response.json()
        attachment = ContractAttachment.objects.get(pk=data["id"])
        self.assertEqual(data["name"], "signed.pdf")
        self.assertEqual(data["filename"], attachment.filename)
        self.assertTrue(data["filename"].startswith("signed"))
        self.assertEqual(data["size"], len(PDF))
        self.assertEqual(data["mime_type"], "application/pdf")
        self.assertEqual(data["sha256"], hashlib.sha256(PDF).hexdigest())
        self.assertNotIn("file", data)
        self.assertNotIn("/media/", response.content.decode())
        self.assertEqual(
            data["download_url"],
            self.expected_download_url(
                response, "plugins:nautobot_contracts:contractattachment_download", attachment.pk
            ),
        )
        with attachment.file.open("rb") as stored:
            self.assertEqual(stored.read(), PDF)
        # Detail and list never show the storage path either.
        detail = self.client.get(
            reverse(f"{API}:contractattachment-detail", kwargs={"pk": attachment.pk}), **self.header
        )
        self.assertNotIn(attachment.file.name, detail.content.decode())
        self.assertNotIn("/media/", self.client.get(self.list_url, **self.header).content.decode())

    def test_download_url_null_without_download_view(self):
        with mock.patch("nautobot_contracts.api.serializers.reverse", side_effect=NoReverseMatch):
            response = self.upload()
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        self.assertIsNone(response.json()["download_url"])

    def test_invoice_attachment_upload(self):
        url = reverse(f"{API}:invoiceattachment-list")
        body = {"invoice": str(self.invoice.pk), "file": pdf_upload("bill.pdf"), "name": "March bill"}
        response = self.client.post(url, body, format="multipart", **self.header)
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        data = response.json()
        self.assertEqual(data["name"], "March bill")
        self.assertEqual(data["sha256"], hashlib.sha256(PDF).hexdigest())
        self.assertEqual(
            data["download_url"],
            self.expected_download_url(response, "plugins:nautobot_contracts:invoiceattachment_download", data["id"]),
        )

    def test_file_required_on_create(self):
        response = self.client.post(
            self.list_url, {"contract": str(self.contract.pk), "name": "x"}, format="multipart", **self.header
        )
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("file", response.json())
        self.assertFalse(ContractAttachment.objects.exists())

    def test_extension_not_allowed(self):
        response = self.upload(file=SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream"))
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("Files of type .exe are not allowed", " ".join(response.json()["file"]))
        self.assertFalse(ContractAttachment.objects.exists())

    @override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"attachment_max_size_bytes": 10}})
    def test_size_limit(self):
        response = self.upload()
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn(f"The file is {len(PDF)} bytes; the limit is 10 bytes.", response.json()["file"])
        self.assertFalse(ContractAttachment.objects.exists())

    def test_duplicate_name_is_a_validation_error(self):
        self.assertHttpStatus(self.upload(), status.HTTP_201_CREATED)
        response = self.upload()  # same file name, so the same default name on the same contract
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertEqual(ContractAttachment.objects.count(), 1)

    def test_upload_without_permission(self):
        self.remove_permissions("nautobot_contracts.add_contractattachment")
        self.assertHttpStatus(self.upload(), status.HTTP_403_FORBIDDEN)
        self.assertFalse(ContractAttachment.objects.exists())

    def test_edit_metadata_but_never_replace_the_file(self):
        attachment_id = self.upload().json()["id"]
        url = reverse(f"{API}:contractattachment-detail", kwargs={"pk": attachment_id})
        response = self.client.patch(url, {"description": "Final"}, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        self.assertEqual(response.json()["sha256"], hashlib.sha256(PDF).hexdigest())
        new_content = PDF + b"% amended\n"
        response = self.client.patch(
            url, {"file": pdf_upload("amended.pdf", new_content)}, format="multipart", **self.header
        )
        # Files are immutable after upload: a new file is a new attachment.
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("file", response.json())
        stored = ContractAttachment.objects.get(pk=attachment_id)
        self.assertEqual(stored.sha256, hashlib.sha256(PDF).hexdigest())
        self.assertEqual(stored.description, "Final")


@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class SparseFieldsetTest(APITestCase):
    """?fields= and ?omit= on every endpoint, list and detail, and their coexistence with Nautobot's machinery."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(name="Sparse", currency="EUR")
        invoice = factories.InvoiceFactory(contract=cls.contract)
        objects = {
            "serviceprovider": cls.contract.provider,
            "contract": cls.contract,
            "invoice": invoice,
            "contractassignment": factories.ContractAssignmentFactory(
                contract=cls.contract, assigned_object=factories.make_tenant()
            ),
            "contractattachment": make_contract_attachment(cls.contract, "sow"),
            "invoiceattachment": make_invoice_attachment(invoice, "bill"),
            "costsnapshot": factories.CostSnapshotFactory(),
            "exchangerate": factories.ExchangeRateFactory(),
        }
        cls.objects = objects

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def get(self, url, **params):
        response = self.client.get(self.add_query_params_to_url(url, params) if params else url, **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        return response.json()

    def urls(self):
        for model_name, instance in self.objects.items():
            yield (
                model_name,
                reverse(f"{API}:{model_name}-list"),
                reverse(f"{API}:{model_name}-detail", kwargs={"pk": instance.pk}),
            )

    def test_fields_on_every_endpoint(self):
        for model_name, list_url, detail_url in self.urls():
            with self.subTest(model=model_name):
                full = self.get(detail_url)
                self.assertGreater(len(full), 5)
                self.assertEqual(set(self.get(detail_url, fields="id,display")), {"id", "display"})
                # Unknown names are ignored, spaces tolerated.
                self.assertEqual(set(self.get(detail_url, fields="display, bogus")), {"display"})
                results = self.get(list_url, fields="id,url")["results"]
                self.assertTrue(results)
                for row in results:
                    self.assertEqual(set(row), {"id", "url"})

    def test_omit_on_every_endpoint(self):
        for model_name, list_url, detail_url in self.urls():
            with self.subTest(model=model_name):
                full = self.get(detail_url)
                self.assertEqual(set(self.get(detail_url, omit="display,url,bogus")), set(full) - {"display", "url"})
                for row in self.get(list_url, omit="id")["results"]:
                    self.assertNotIn("id", row)
                    self.assertIn("display", row)

    def test_only_unknown_names_gives_empty_objects(self):
        url = reverse(f"{API}:contract-list")
        self.assertEqual(self.get(url, fields="nope")["results"], [{}])

    def test_fields_and_omit_combined_and_repeated(self):
        url = reverse(f"{API}:contract-detail", kwargs={"pk": self.contract.pk})
        response = self.client.get(f"{url}?fields=name&fields=currency,monthly_cost&omit=currency", **self.header)
        self.assertEqual(response.json(), {"name": "Sparse", "monthly_cost": "100.00"})

    def test_with_depth_nested_objects_stay_whole(self):
        url = reverse(f"{API}:contract-detail", kwargs={"pk": self.contract.pk})
        data = self.get(url, fields="name,provider", depth="1")
        self.assertEqual(set(data), {"name", "provider"})
        self.assertEqual(data["provider"]["name"], self.contract.provider.name)
        self.assertIn("account_number", data["provider"])
        # At depth 0 the same relation is the brief reference.
        self.assertEqual(set(self.get(url, fields="provider")["provider"]), {"id", "object_type", "url"})

    def test_with_exclude_m2m_and_include(self):
        url = reverse(f"{API}:contract-list")
        row = self.get(url, fields="name,tags", exclude_m2m="false")["results"][0]
        self.assertEqual(row, {"name": "Sparse", "tags": []})
        self.assertEqual(self.get(url, fields="name,tags", exclude_m2m="true")["results"][0], {"name": "Sparse"})
        row = self.get(url, fields="name,computed_fields", include="computed_fields")["results"][0]
        self.assertEqual(row, {"name": "Sparse", "computed_fields": {}})

    def test_sparse_params_are_not_filters(self):
        # STRICT_FILTERING is on: were `fields`/`omit` passed to the FilterSet, this would be a 400.
        url = reverse(f"{API}:contract-list")
        self.assertEqual(self.get(url, currency="eur", fields="name")["results"], [{"name": "Sparse"}])
        self.assertEqual(self.get(url, currency="usd", omit="id")["results"], [])

    def test_csv_export(self):
        url = reverse(f"{API}:contract-list")
        response = self.client.get(f"{url}?format=csv&fields=name,currency", **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        self.assertEqual(response.content.decode().splitlines(), ["name,currency", "Sparse,EUR"])

    def test_writes_and_options_see_every_field(self):
        self.add_permissions("nautobot_contracts.add_exchangerate")
        url = reverse(f"{API}:exchangerate-list") + "?fields=id"
        body = {"currency": "GBP", "rate": "1.25", "effective_date": "2026-03-01", "description": "kept"}
        response = self.client.post(url, body, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        self.assertEqual(response.json()["description"], "kept")
        self.assertEqual(ExchangeRate.objects.get(pk=response.json()["id"]).rate, Decimal("1.25"))
        options = self.client.options(url, **self.header).json()
        self.assertLessEqual({"currency", "rate", "effective_date", "description"}, set(options["actions"]["POST"]))

    def test_openapi_schema_documents_the_parameters(self):
        # The app's part of the schema, generated as /api/swagger.json does (the full schema takes about a minute).
        generator = SchemaGenerator(patterns=[path("api/plugins/contracts/", include("nautobot_contracts.api.urls"))])
        paths = generator.get_schema(request=None, public=True)["paths"]
        for model_name, list_url, _ in self.urls():
            with self.subTest(model=model_name):
                list_path = list_url.removeprefix("/api")  # Nautobot's schema paths start after /api
                for url in (list_path, f"{list_path}{{id}}/"):
                    names = {param["name"] for param in paths[url]["get"]["parameters"]}
                    self.assertLessEqual({"fields", "omit", "depth", "exclude_m2m"}, names, url)
                    self.assertNotIn(
                        "fields", {param["name"] for param in paths[url].get("put", {}).get("parameters", [])}
                    )
        self.assertEqual(set(paths["/plugins/contracts/cost-snapshots/"]), {"get"})
        self.assertEqual(set(paths["/plugins/contracts/cost-snapshots/{id}/"]), {"get"})
        self.assertEqual(set(paths["/plugins/contracts/contracts/"]), {"get", "post", "put", "patch", "delete"})


class ListQueryCountTest(APITestCase):
    """Every list endpoint runs the same number of queries for a few objects as for many."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.provider = factories.ServiceProviderFactory(name="Acme")
        self.contract = factories.ContractFactory(provider=self.provider, tenant=factories.make_tenant())

    def count_queries(self, url):
        self.client.get(url, **self.header)  # warm per-process caches (content types, settings)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        return len(queries), response.json()["count"]

    def assert_bounded(self, model_name, make_one, few=3, many=30, params=""):
        url = reverse(f"{API}:{model_name}-list") + params
        for _ in range(few):
            make_one()
        small, small_count = self.count_queries(url)
        for _ in range(many - few):
            make_one()
        large, large_count = self.count_queries(url)
        self.assertEqual(large_count - small_count, many - few)
        self.assertEqual(small, large, f"{model_name}{params}: {small} queries for {few} rows, {large} for {many}")
        return large

    def tagged(self, instance):
        if not hasattr(self, "test_tags"):
            self.test_tags = [Tag.objects.create(name=f"tag-{i}") for i in range(2)]
            for tag in self.test_tags:
                tag.content_types.add(*ContentType.objects.filter(app_label="nautobot_contracts"))
        instance.tags.add(*self.test_tags)
        return instance

    def test_service_providers(self):
        self.assert_bounded("serviceprovider", lambda: self.tagged(factories.ServiceProviderFactory()))

    def test_contracts(self):
        tenant = self.contract.tenant

        def make():
            return self.tagged(factories.ContractFactory(provider=factories.ServiceProviderFactory(), tenant=tenant))

        for params in ("", "?depth=1", "?exclude_m2m=false"):
            with self.subTest(params=params):
                Contract.objects.all().delete()
                self.assert_bounded("contract", make, params=params)

    def test_invoices(self):
        for params in ("", "?depth=1"):
            with self.subTest(params=params):
                Invoice.objects.all().delete()
                self.assert_bounded("invoice", lambda: factories.InvoiceFactory(contract=self.contract), params=params)

    def test_exchange_rates(self):
        dates = iter(datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(100))
        self.assert_bounded("exchangerate", lambda: factories.ExchangeRateFactory(effective_date=next(dates)))

    def test_cost_snapshots(self):
        dates = iter(datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(100))
        self.assert_bounded("costsnapshot", lambda: factories.CostSnapshotFactory(snapshot_date=next(dates)))

    @override_settings(MEDIA_ROOT=MEDIA_ROOT)
    def test_attachments(self):
        counter = iter(range(100))
        self.assert_bounded("contractattachment", lambda: make_contract_attachment(self.contract, f"c{next(counter)}"))
        invoice = factories.InvoiceFactory(contract=self.contract)
        self.assert_bounded("invoiceattachment", lambda: make_invoice_attachment(invoice, f"i{next(counter)}"))

    def test_assignments_to_every_target_type(self):
        """Targets of all eight assignable types, locations and tenant groups three levels deep."""
        serial = iter(range(1000))

        def targets():
            n = next(serial)
            region = factories.make_location(f"Region {n}", location_type_name="Region")
            site = factories.make_location(f"Site {n}", parent=region)
            floor = factories.make_location(f"Floor {n}", parent=site, location_type_name="Floor")
            group = factories.make_tenant_group(
                f"Sub {n}",
                parent=factories.make_tenant_group(f"Top {n}", parent=factories.make_tenant_group(f"Root {n}")),
            )
            cluster_type = ClusterType.objects.get_or_create(name="VMware")[0]
            cluster = Cluster.objects.create(name=f"cluster-{n}", cluster_type=cluster_type)
            vm = VirtualMachine.objects.create(
                name=f"vm-{n}", cluster=cluster, status=factories.status_for(VirtualMachine, "Active")
            )
            return [
                factories.make_device(f"dev-{n}", location=site),
                factories.make_rack(f"rack-{n}", location=site),
                floor,
                factories.make_circuit(f"CID-{n}"),
                vm,
                cluster,
                factories.make_tenant(f"Tenant {n}", group=group),
                group,
            ]

        def make_batch():
            for target in targets():
                factories.ContractAssignmentFactory(contract=self.contract, assigned_object=target)

        # One batch = one assignment per type: 8 rows, then 48.
        for params in ("", "?depth=1"):
            with self.subTest(params=params):
                ContractAssignment.objects.all().delete()
                url = reverse(f"{API}:contractassignment-list") + params
                make_batch()
                small, _ = self.count_queries(url)
                for _ in range(5):
                    make_batch()
                large, count = self.count_queries(url)
                self.assertEqual(count, 48)
                self.assertEqual(small, large, f"{small} queries for 8 assignments, {large} for 48")
        # The displays are the real ones, including the full ancestry of tree-shaped targets.
        url = reverse(f"{API}:contractassignment-list")
        for object_type, pattern in (
            ("dcim.location", r"^Region \d+ → Site \d+ → Floor \d+$"),
            ("tenancy.tenantgroup", r"^Root \d+ → Top \d+ → Sub \d+$"),
            ("dcim.device", r"^dev-\d+$"),
        ):
            rows = self.client.get(f"{url}?assigned_object_type={object_type}", **self.header).json()["results"]
            self.assertEqual(len(rows), 6)
            for row in rows:
                self.assertRegex(row["assigned_object"]["display"], pattern)
