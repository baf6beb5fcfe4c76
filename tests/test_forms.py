"""Forms on their own: currency selects, the assignment form's type-then-object choice, attachment uploads."""

import datetime
import shutil
import tempfile

from django import forms as django_forms
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from nautobot.apps.forms import DynamicModelChoiceField
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device, Location
from nautobot.tenancy.models import TenantGroup

from nautobot_contracts import filters, forms
from nautobot_contracts.models import Contract, ContractAttachment
from tests.factories import (
    ContractAssignmentFactory,
    ContractFactory,
    ServiceProviderFactory,
    make_device,
    make_location,
    make_tenant_group,
    status_for,
)


def content_type(model):
    return ContentType.objects.get_for_model(model)


class CurrencyFieldTest(TestCase):
    def contract_data(self, **overrides):
        return {
            "provider": ServiceProviderFactory().pk,
            "name": "Transit",
            "status": status_for(Contract, "Active").pk,
            "contract_type": "circuit",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "recurring_cost": "100.00",
            "billing_period": "monthly",
            "one_time_cost": "0",
            "renewal_term_months": 12,
            "currency": "EUR",
            **overrides,
        }

    def test_currency_is_a_select_of_iso_codes(self):
        field = forms.ContractForm().fields["currency"]
        codes = {value for value, _label in field.choices}
        self.assertIn("EUR", codes)
        self.assertIn("JPY", codes)
        self.assertNotIn("", codes)
        self.assertNotIn("XYZ", codes)

    def test_valid_contract(self):
        form = forms.ContractForm(data=self.contract_data())
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.save().currency, "EUR")

    def test_unknown_code_refused(self):
        form = forms.ContractForm(data=self.contract_data(currency="ABC"))
        self.assertFalse(form.is_valid())
        self.assertIn("currency", form.errors)

    def test_end_before_start_refused(self):
        form = forms.ContractForm(data=self.contract_data(end_date="2025-12-31"))
        self.assertFalse(form.is_valid())
        self.assertIn("end_date", form.errors)

    def test_negative_cost_refused(self):
        form = forms.ContractForm(data=self.contract_data(recurring_cost="-1"))
        self.assertFalse(form.is_valid())
        self.assertIn("recurring_cost", form.errors)

    def test_invoice_currency_optional(self):
        self.assertFalse(forms.InvoiceForm().fields["currency"].required)
        self.assertEqual(list(forms.InvoiceForm().fields["currency"].choices)[0][1], "---------")

    def test_filter_forms_match_filter_sets(self):
        pairs = {
            forms.ServiceProviderFilterForm: filters.ServiceProviderFilterSet,
            forms.ContractFilterForm: filters.ContractFilterSet,
            forms.InvoiceFilterForm: filters.InvoiceFilterSet,
            forms.ContractAssignmentFilterForm: filters.ContractAssignmentFilterSet,
            forms.ContractAttachmentFilterForm: filters.ContractAttachmentFilterSet,
            forms.InvoiceAttachmentFilterForm: filters.InvoiceAttachmentFilterSet,
            forms.ExchangeRateFilterForm: filters.ExchangeRateFilterSet,
            forms.CostSnapshotFilterForm: filters.CostSnapshotFilterSet,
        }
        for form_class, filterset_class in pairs.items():
            for name in form_class().fields:
                if name.startswith(("cf_", "cr_", "cpf_")):
                    continue
                with self.subTest(form=form_class.__name__, field=name):
                    self.assertIn(name, filterset_class.base_filters)


class ContractAssignmentFormTest(TestCase):
    def setUp(self):
        super().setUp()
        self.contract = ContractFactory()

    def form(self, **data):
        return forms.ContractAssignmentForm(data={"contract": self.contract.pk, **data})

    def test_one_dynamic_select_per_assignable_type(self):
        form = forms.ContractAssignmentForm()
        for name, model in (
            ("device", Device),
            ("location", Location),
            ("tenant_group", TenantGroup),
        ):
            with self.subTest(field=name):
                field = form.fields[name]
                self.assertIsInstance(field, DynamicModelChoiceField)
                self.assertIs(field.queryset.model, model)
                self.assertFalse(field.required)
        self.assertEqual(
            list(form.fields)[:4], ["contract", "assigned_object_type", "device", "rack"], "type comes before objects"
        )
        self.assertIsInstance(form.fields["assigned_object_id"].widget, django_forms.HiddenInput)

    def test_type_choices_limited_to_assignable(self):
        queryset = forms.ContractAssignmentForm().fields["assigned_object_type"].queryset
        self.assertIn(content_type(Device), queryset)
        self.assertNotIn(content_type(Contract), queryset)
        form = self.form(assigned_object_type=content_type(Contract).pk, device=make_device().pk)
        self.assertFalse(form.is_valid())
        self.assertIn("assigned_object_type", form.errors)

    def test_sets_generic_relation(self):
        location = make_location("DC1")
        form = self.form(assigned_object_type=content_type(Location).pk, location=location.pk)
        self.assertTrue(form.is_valid(), form.errors)
        assignment = form.save()
        self.assertEqual(assignment.assigned_object, location)
        self.assertEqual(assignment.assigned_object_type, content_type(Location))

    def test_posted_id_ignored_in_favour_of_the_select(self):
        group = make_tenant_group("Group Z")
        device = make_device("dev-9")
        form = self.form(
            assigned_object_type=content_type(TenantGroup).pk, tenant_group=group.pk, assigned_object_id=device.pk
        )
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.save().assigned_object, group)

    def test_object_of_chosen_type_required(self):
        form = self.form(assigned_object_type=content_type(Device).pk, location=make_location().pk)
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors["device"], ["Select the device to assign."])

    def test_type_required(self):
        form = self.form(device=make_device().pk)
        self.assertFalse(form.is_valid())
        self.assertIn("assigned_object_type", form.errors)

    def test_coverage_window_checked_by_model(self):
        device = make_device("dev-w")
        form = self.form(
            assigned_object_type=content_type(Device).pk,
            device=device.pk,
            coverage_start="2025-06-01",
        )
        self.assertFalse(form.is_valid())
        self.assertIn("coverage_start", form.errors)

    def test_duplicate_refused(self):
        device = make_device("dev-d")
        ContractAssignmentFactory(contract=self.contract, assigned_object=device)
        form = self.form(assigned_object_type=content_type(Device).pk, device=device.pk)
        self.assertFalse(form.is_valid())

    def test_edit_preselects_current_target(self):
        device = make_device("dev-e")
        assignment = ContractAssignmentFactory(contract=self.contract, assigned_object=device)
        form = forms.ContractAssignmentForm(instance=assignment)
        self.assertEqual(form.initial["device"], device.pk)
        self.assertEqual(form.initial["assigned_object_type"], content_type(Device).pk)

    def test_retarget_on_edit(self):
        device = make_device("dev-r")
        assignment = ContractAssignmentFactory(
            contract=self.contract, assigned_object=device, coverage_end=datetime.date(2026, 6, 30)
        )
        location = make_location("DC2")
        form = forms.ContractAssignmentForm(
            instance=assignment,
            data={
                "contract": self.contract.pk,
                "assigned_object_type": content_type(Location).pk,
                "location": location.pk,
                "assigned_object_id": device.pk,
                "coverage_end": "2026-06-30",
            },
        )
        self.assertTrue(form.is_valid(), form.errors)
        form.save()
        assignment.refresh_from_db()
        self.assertEqual(assignment.assigned_object, location)

    def test_object_query_preselects_type(self):
        device = make_device("dev-q")
        form = forms.ContractAssignmentForm(initial={"device": device.pk})
        self.assertEqual(form.initial["assigned_object_type"], content_type(Device).pk)


class AttachmentFormTest(TestCase):
    def test_file_field_only_on_upload(self):
        new = forms.ContractAttachmentForm()
        self.assertIn("file", new.fields)
        self.assertTrue(new.fields["file"].required)
        # A plain file input: no "currently: <link to MEDIA_URL>" widget.
        self.assertIs(type(new.fields["file"].widget), django_forms.FileInput)

    def test_edit_form_has_no_file_field(self):
        contract = ContractFactory()
        attachment = ContractAttachment(
            contract=contract, name="MSA", file=SimpleUploadedFile("msa.pdf", b"%PDF", content_type="application/pdf")
        )
        with self.settings(MEDIA_ROOT=self._media_root()):
            attachment.validated_save()
            form = forms.ContractAttachmentForm(instance=attachment)
            self.assertNotIn("file", form.fields)
            attachment.file.delete(save=False)

    def _media_root(self):
        path = tempfile.mkdtemp(prefix="nautobot-contracts-forms-")
        self.addCleanup(shutil.rmtree, path, True)
        return path

    def test_limits_come_from_the_model(self):
        contract = ContractFactory()
        form = forms.ContractAttachmentForm(
            data={"contract": contract.pk},
            files={"file": SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")},
        )
        self.assertFalse(form.is_valid())
        self.assertIn("not allowed", str(form.errors["file"]))
