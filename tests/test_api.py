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
from django.urls import NoReverseMatch, reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases
from nautobot.extras.models import Status
from nautobot.tenancy.models import Tenant
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
    choices_fields = ("contract_type", "billing_period")
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
            },
        ]

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


@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class ContractAttachmentAPITest(
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
    APIViewTestCases.DeleteObjectViewTestCase,
    APIViewTestCases.NotesURLViewTestCase,
):
    """Creation is a multipart upload, which core's JSON create tests cannot send: AttachmentUploadTest covers it."""

    model = ContractAttachment
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


@override_settings(MEDIA_ROOT=MEDIA_ROOT)
class InvoiceAttachmentAPITest(
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
    APIViewTestCases.DeleteObjectViewTestCase,
    APIViewTestCases.NotesURLViewTestCase,
):
    """Creation is a multipart upload: AttachmentUploadTest covers it."""

    model = InvoiceAttachment
    choices_fields = ()
    update_data = {"description": "Vendor PDF"}
    bulk_update_data = {"description": "Filed"}
    VERBOTEN_STRINGS = tuple(s for s in APITestCase.VERBOTEN_STRINGS if s != "sha256")

    @classmethod
    def setUpTestData(cls):
        invoice = factories.InvoiceFactory()
        for index in range(4):
            make_invoice_attachment(invoice, f"invoice-pdf-{index}")


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
