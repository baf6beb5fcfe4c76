"""Model invariants (docs/user/app-overview.md#the-rules): checked in clean() and, where it can be, by the database."""

import datetime
from decimal import Decimal
import shutil
import tempfile

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.test import override_settings
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device, Manufacturer

from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    ContractAttachment,
    ExchangeRate,
    Invoice,
    ServiceProvider,
)
from tests import factories

D = datetime.date


class ContractInvariantsTest(TestCase):
    """Dates in order, non-negative money, ISO 4217 currency, unique numbers per provider."""

    def setUp(self):
        self.provider = factories.ServiceProviderFactory(name="Acme Networks")

    def build(self, **overrides):
        fields = {
            "name": "Core support",
            "provider": self.provider,
            "status": factories.status_for(Contract, "Active"),
            "start_date": D(2026, 1, 1),
            "end_date": D(2026, 12, 31),
            "currency": "usd",
        }
        fields.update(overrides)
        return Contract(**fields)

    def test_currency_is_upper_cased_and_validated(self):
        contract = self.build()
        contract.validated_save()
        self.assertEqual(Contract.objects.get(pk=contract.pk).currency, "USD")
        for bad in ("US", "XYZ", "dollars", ""):
            with self.subTest(currency=bad), self.assertRaises(ValidationError) as caught:
                self.build(name=f"bad {bad}", currency=bad).full_clean()
            self.assertIn("currency", caught.exception.message_dict)

    def test_end_before_start_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.build(end_date=D(2025, 12, 31)).full_clean()
        self.assertIn("end_date", caught.exception.message_dict)
        with self.assertRaises(IntegrityError), transaction.atomic():
            self.build(end_date=D(2025, 12, 31), currency="USD").save()

    def test_negative_amounts_refused(self):
        for field in ("recurring_cost", "one_time_cost"):
            with self.subTest(field=field), self.assertRaises(ValidationError) as caught:
                self.build(**{field: Decimal("-0.01")}).full_clean()
            self.assertIn(field, caught.exception.message_dict)
            with self.assertRaises(IntegrityError), transaction.atomic():
                self.build(currency="USD", **{field: Decimal("-1")}).save()

    def test_contract_number_unique_per_provider_when_set(self):
        self.build(contract_number="C-1").validated_save()
        with self.assertRaises(ValidationError) as caught:
            self.build(name="Other", contract_number="C-1").validated_save()
        self.assertIn("contract_number", caught.exception.message_dict)
        # Another provider may reuse the number; blank numbers never clash.
        self.build(name="Other", contract_number="C-1", provider=factories.ServiceProviderFactory()).validated_save()
        self.build(name="Blank one").validated_save()
        self.build(name="Blank two").validated_save()

    def test_name_unique_per_provider(self):
        self.build().validated_save()
        with self.assertRaises(ValidationError):
            self.build().validated_save()

    @override_settings(PLUGINS_CONFIG={"nautobot_contracts": {"default_renewal_term_months": 24}})
    def test_renewal_term_default_comes_from_settings(self):
        self.assertEqual(self.build().renewal_term_months, 24)
        self.assertEqual(self.build(renewal_term_months=6).renewal_term_months, 6)
        with self.assertRaises(ValidationError):
            self.build(renewal_term_months=0).full_clean()

    def test_deleting_provider_with_contracts_refused(self):
        self.build().validated_save()
        with self.assertRaises(ProtectedError):
            self.provider.delete()
        self.assertTrue(ServiceProvider.objects.filter(pk=self.provider.pk).exists())


class InvoiceInvariantsTest(TestCase):
    """Period and payment dates in order, currency equal to the contract's, financial records protected."""

    def setUp(self):
        self.contract = factories.ContractFactory(currency="EUR")

    def build(self, **overrides):
        fields = {
            "contract": self.contract,
            "invoice_number": "INV-1",
            "invoice_date": D(2026, 2, 1),
            "amount": Decimal("10.00"),
            "status": factories.status_for(Invoice, "Open"),
        }
        fields.update(overrides)
        return Invoice(**fields)

    def test_currency_defaults_to_contracts_and_must_match(self):
        invoice = self.build()
        invoice.validated_save()
        self.assertEqual(invoice.currency, "EUR")
        with self.assertRaises(ValidationError) as caught:
            self.build(invoice_number="INV-2", currency="USD").full_clean()
        self.assertIn("currency", caught.exception.message_dict)

    def test_period_and_paid_dates_in_order(self):
        cases = {
            "period_end": {"period_start": D(2026, 1, 31), "period_end": D(2026, 1, 1)},
            "paid_date": {"paid_date": D(2026, 1, 31)},
        }
        for field, overrides in cases.items():
            with self.subTest(field=field), self.assertRaises(ValidationError) as caught:
                self.build(**overrides).full_clean()
            self.assertIn(field, caught.exception.message_dict)
            with self.assertRaises(IntegrityError), transaction.atomic():
                self.build(currency="EUR", **overrides).save()

    def test_negative_amount_refused(self):
        with self.assertRaises(ValidationError):
            self.build(amount=Decimal("-5")).full_clean()

    def test_number_unique_per_contract(self):
        self.build().validated_save()
        with self.assertRaises(ValidationError):
            self.build().validated_save()
        self.build(contract=factories.ContractFactory(currency="EUR")).validated_save()

    def test_deleting_contract_with_invoices_refused(self):
        self.build().validated_save()
        with self.assertRaises(ProtectedError):
            self.contract.delete()
        self.assertTrue(Contract.objects.filter(pk=self.contract.pk).exists())


class AssignmentInvariantsTest(TestCase):
    """Assignable types only, existing objects only, window inside the term, no orphans."""

    def setUp(self):
        self.contract = factories.ContractFactory(start_date=D(2026, 1, 1), end_date=D(2026, 12, 31))
        self.device = factories.make_device("edge-1")

    def build(self, obj=None, **overrides):
        obj = obj or self.device
        fields = {
            "contract": self.contract,
            "assigned_object_type": ContentType.objects.get_for_model(obj),
            "assigned_object_id": obj.pk,
        }
        fields.update(overrides)
        return ContractAssignment(**fields)

    def test_window_inside_term(self):
        self.build(coverage_start=D(2026, 3, 1), coverage_end=D(2026, 6, 30)).validated_save()
        for overrides, field in (
            ({"coverage_start": D(2025, 12, 31)}, "coverage_start"),
            ({"coverage_end": D(2027, 1, 1)}, "coverage_end"),
            ({"coverage_start": D(2026, 6, 1), "coverage_end": D(2026, 5, 1)}, "coverage_end"),
        ):
            with self.subTest(overrides=overrides), self.assertRaises(ValidationError) as caught:
                self.build(obj=factories.make_device(f"d-{field}-{len(overrides)}"), **overrides).full_clean()
            self.assertIn(field, caught.exception.message_dict)

    def test_only_assignable_types_and_existing_objects(self):
        manufacturer = Manufacturer.objects.create(name="Not assignable")
        with self.assertRaises(ValidationError) as caught:
            self.build(obj=manufacturer).full_clean()
        self.assertIn("assigned_object_type", caught.exception.message_dict)
        missing = self.build(assigned_object_id="00000000-0000-4000-8000-000000000000")
        with self.assertRaises(ValidationError) as caught:
            missing.full_clean()
        self.assertIn("assigned_object_id", caught.exception.message_dict)

    def test_unique_per_contract_and_object(self):
        self.build().validated_save()
        with self.assertRaises(ValidationError):
            self.build().validated_save()

    def test_deleting_assigned_object_removes_its_assignments(self):
        other = factories.make_device("edge-2")
        self.build().validated_save()
        self.build(obj=other).validated_save()
        Device.objects.filter(pk=self.device.pk).delete()
        remaining = ContractAssignment.objects.filter(contract=self.contract)
        self.assertEqual([assignment.assigned_object_id for assignment in remaining], [other.pk])

    def test_deleting_contract_removes_its_assignments(self):
        self.build().validated_save()
        self.contract.delete()
        self.assertFalse(ContractAssignment.objects.exists())


class ExchangeRateInvariantsTest(TestCase):
    """A positive rate, one per currency and date."""

    def test_rate_positive_and_unique_per_day(self):
        ExchangeRate(currency="eur", rate=Decimal("1.1"), effective_date=D(2026, 1, 1)).validated_save()
        with self.assertRaises(ValidationError):
            ExchangeRate(currency="EUR", rate=Decimal("1.2"), effective_date=D(2026, 1, 1)).validated_save()
        with self.assertRaises(ValidationError):
            ExchangeRate(currency="GBP", rate=Decimal("0"), effective_date=D(2026, 1, 1)).full_clean()
        with self.assertRaises(IntegrityError), transaction.atomic():
            ExchangeRate(currency="GBP", rate=Decimal("0"), effective_date=D(2026, 1, 1)).save()


class AttachmentInvariantsTest(TestCase):
    """A blank name defaults to the file name early enough for the per-parent uniqueness check to see it."""

    def test_duplicate_default_name_is_a_validation_error(self):
        media_root = tempfile.mkdtemp(prefix="nautobot-contracts-models-")
        self.addCleanup(shutil.rmtree, media_root, ignore_errors=True)
        contract = factories.ContractFactory()
        with self.settings(MEDIA_ROOT=media_root):
            first = ContractAttachment(contract=contract, file=SimpleUploadedFile("sow.pdf", b"%PDF-1.4"))
            first.validated_save()
            self.assertEqual(first.name, "sow.pdf")
            second = ContractAttachment(contract=contract, file=SimpleUploadedFile("sow.pdf", b"%PDF-1.4 v2"))
            with self.assertRaises(ValidationError):
                second.validated_save()
        self.assertEqual(ContractAttachment.objects.filter(contract=contract).count(), 1)
