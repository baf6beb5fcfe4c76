"""Attachments in the UI: upload from the contract and invoice pages, permission-checked downloads, limits, removal."""

import copy
import hashlib
import os
import shutil
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import TestCase, ViewTestCases

from nautobot_contracts.models import ContractAttachment, InvoiceAttachment
from tests.factories import ContractFactory, InvoiceFactory

URL = "plugins:nautobot_contracts:{}"
PDF = b"%PDF-1.4\n% signed contract\n"

# Uploaded files go to a throw-away private attachment root (MEDIA_ROOT is never used for them), removed when the
# module's tests are done.
MEDIA_ROOT = tempfile.mkdtemp(prefix="nautobot-contracts-test-media-")
PRIVATE_ROOT = tempfile.mkdtemp(prefix="nautobot-contracts-test-attachments-")


def tearDownModule():
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)
    shutil.rmtree(PRIVATE_ROOT, ignore_errors=True)


def upload(filename="signed.pdf", content=PDF, content_type="application/pdf"):
    """A file as a browser would send it."""
    return SimpleUploadedFile(filename, content, content_type=content_type)


def contract_attachment(contract, name, filename=None, content=PDF):
    """A stored contract attachment."""
    attachment = ContractAttachment(contract=contract, name=name, file=upload(filename or f"{name}.pdf", content))
    attachment.validated_save()
    return attachment


def invoice_attachment(invoice, name, filename=None, content=PDF):
    """A stored invoice attachment."""
    attachment = InvoiceAttachment(invoice=invoice, name=name, file=upload(filename or f"{name}.pdf", content))
    attachment.validated_save()
    return attachment


def plugin_settings(**overrides):
    """PLUGINS_CONFIG with this module's private root and some of this app's settings replaced."""
    config = copy.deepcopy(settings.PLUGINS_CONFIG)
    config["nautobot_contracts"].update({"attachment_root": PRIVATE_ROOT, **overrides})
    return config


def private_root(cls):
    """The module's MEDIA_ROOT and private attachment root for a test class."""
    return override_settings(MEDIA_ROOT=MEDIA_ROOT, PLUGINS_CONFIG=plugin_settings())(cls)


class AttachmentViewTestMixin:
    """All standard views except create, which takes a file upload and is tested below."""

    def setUp(self):
        # Attachments are visible only with view permission on their contract or invoice too.
        super().setUp()
        self.add_permissions(self.parent_view_permission)

    def test_list_objects_anonymous_with_exempt_permission_for_one_view_only(self):
        """Exempting only attachments shows none (their parents stay private); exempting the parents too shows them."""
        self.client.logout()
        attachments = self.model._meta.label_lower
        with override_settings(EXEMPT_VIEW_PERMISSIONS=[attachments]):
            response = self.client.get(self._get_url("list"), headers={"HX-Request": "true"})
            self.assertHttpStatus(response, 200)
            self.assertNotContains(response, 'class="odd')
        parents = ["nautobot_contracts.contract", "nautobot_contracts.invoice"]
        with override_settings(EXEMPT_VIEW_PERMISSIONS=[attachments, *parents]):
            self.assertHttpStatus(self.client.get(self._get_url("list")), 200)
            response = self.client.get(self._get_url("list"), headers={"HX-Request": "true"})
            self.assertHttpStatus(response, 200)
            self.assertBodyContains(response, 'class="even')
            self.assertBodyContains(response, 'class="odd')

    def test_pages_never_link_the_storage_url(self):
        self.user.is_superuser = True
        self.user.save()
        instance = self._get_queryset().first()
        stored_path = instance.file.name
        pages = [
            instance.get_absolute_url(),
            self._get_url("list"),
            self._get_url("edit", instance),
            instance.contract.get_absolute_url()
            if hasattr(instance, "contract")
            else instance.invoice.get_absolute_url(),
        ]
        for page in pages:
            with self.subTest(page=page):
                response = self.client.get(
                    page, headers={"HX-Request": "true"} if page == self._get_url("list") else {}
                )
                self.assertHttpStatus(response, 200)
                content = response.content.decode()
                self.assertNotIn(stored_path, content)
                self.assertNotIn(settings.MEDIA_URL + "contract_attachments", content)
                self.assertNotIn(settings.MEDIA_URL + "invoice_attachments", content)
        response = self.client.get(self._get_url("list"), headers={"HX-Request": "true"})
        self.assertContains(response, self._get_url("download", instance))

    def test_list_offers_upload_but_no_csv_import(self):
        self.user.is_superuser = True
        self.user.save()
        content = self.client.get(self._get_url("list")).content.decode()
        self.assertIn(self._get_url("add"), content)
        self.assertNotIn("nautobot.core.jobs.ImportObjects", content)
        self.assertNotIn(self._get_url("import"), content)

    def test_edit_keeps_the_stored_file(self):
        instance = self._get_queryset().first()
        stored_name, digest = instance.file.name, instance.sha256
        self.add_permissions(f"nautobot_contracts.change_{self.model._meta.model_name}", self.parent_view_permission)
        response = self.client.get(self._get_url("edit", instance))
        self.assertNotIn('name="file"', response.content.decode())
        data = {**self.update_data, "file": upload("replacement.pdf", b"%PDF other")}
        self.assertHttpStatus(self.client.post(self._get_url("edit", instance), data), 302)
        instance.refresh_from_db()
        self.assertEqual((instance.file.name, instance.sha256), (stored_name, digest))
        self.assertEqual(instance.description, self.update_data["description"])


@private_root
class ContractAttachmentViewTest(
    AttachmentViewTestMixin,
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.GetObjectNotesViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.BulkEditObjectsViewTestCase,
    ViewTestCases.BulkRenameObjectsViewTestCase,
    ViewTestCases.BulkDeleteObjectsViewTestCase,
):
    model = ContractAttachment
    parent_view_permission = "nautobot_contracts.view_contract"

    @classmethod
    def setUpTestData(cls):
        cls.contract = ContractFactory(name="Core support")
        for name in ("Signed MSA", "SOW 1", "Renewal letter"):
            contract_attachment(cls.contract, name)
        cls.form_data = cls.update_data = {
            "contract": cls.contract.pk,
            "name": "Signed MSA (countersigned)",
            "description": "Both signatures",
        }
        cls.bulk_edit_data = {"description": "Filed by legal"}


@private_root
class InvoiceAttachmentViewTest(
    AttachmentViewTestMixin,
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.GetObjectNotesViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.BulkEditObjectsViewTestCase,
    ViewTestCases.BulkRenameObjectsViewTestCase,
    ViewTestCases.BulkDeleteObjectsViewTestCase,
):
    model = InvoiceAttachment
    parent_view_permission = "nautobot_contracts.view_invoice"

    @classmethod
    def setUpTestData(cls):
        cls.invoice = InvoiceFactory(invoice_number="INV-7")
        for name in ("Vendor invoice", "Credit note", "Remittance"):
            invoice_attachment(cls.invoice, name)
        cls.form_data = cls.update_data = {
            "invoice": cls.invoice.pk,
            "name": "Vendor invoice (corrected)",
            "description": "Reissued",
        }
        cls.bulk_edit_data = {"description": "Booked"}


@private_root
class UploadTest(TestCase):
    """Uploading from the contract and invoice pages."""

    def setUp(self):
        super().setUp()
        self.contract = ContractFactory(name="Core support")
        self.invoice = InvoiceFactory(contract=self.contract, invoice_number="INV-1")
        self.add_permissions(
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_invoice",
            "nautobot_contracts.view_contractattachment",
            "nautobot_contracts.add_contractattachment",
            "nautobot_contracts.view_invoiceattachment",
            "nautobot_contracts.add_invoiceattachment",
        )
        self.contract_add_url = reverse(URL.format("contractattachment_add"))

    def post(self, data, url=None):
        return self.client.post(url or self.contract_add_url, data)

    def test_contract_page_button_opens_prefilled_multipart_form(self):
        page = self.client.get(self.contract.get_absolute_url()).content.decode()
        self.assertIn(f"{self.contract_add_url}?contract={self.contract.pk}", page)
        response = self.client.get(f"{self.contract_add_url}?contract={self.contract.pk}")
        self.assertHttpStatus(response, 200)
        self.assertContains(response, 'enctype="multipart/form-data"')
        self.assertContains(response, 'type="file" name="file"')
        self.assertContains(response, f'<option value="{self.contract.pk}" selected>Core support</option>', html=True)

    def test_invoice_page_button_opens_prefilled_form(self):
        add_url = reverse(URL.format("invoiceattachment_add"))
        page = self.client.get(self.invoice.get_absolute_url()).content.decode()
        self.assertIn(f"{add_url}?invoice={self.invoice.pk}", page)
        response = self.client.get(f"{add_url}?invoice={self.invoice.pk}")
        self.assertContains(response, f'<option value="{self.invoice.pk}" selected>INV-1</option>', html=True)

    def test_upload_stores_file_and_its_facts(self):
        response = self.post({"contract": self.contract.pk, "file": upload("msa-signed.pdf"), "description": "MSA"})
        self.assertHttpStatus(response, 302)
        attachment = ContractAttachment.objects.get(contract=self.contract)
        self.assertEqual(attachment.name, "msa-signed.pdf")
        self.assertEqual(attachment.size, len(PDF))
        self.assertEqual(attachment.sha256, hashlib.sha256(PDF).hexdigest())
        self.assertEqual(attachment.mime_type, "application/pdf")
        with attachment.file.open("rb") as stored:
            self.assertEqual(stored.read(), PDF)
        self.assertTrue(attachment.file.path.startswith(PRIVATE_ROOT))
        self.assertFalse(attachment.file.path.startswith(MEDIA_ROOT))

    def test_upload_against_invoice(self):
        url = reverse(URL.format("invoiceattachment_add"))
        response = self.post({"invoice": self.invoice.pk, "file": upload("inv.pdf"), "name": "Invoice PDF"}, url)
        self.assertHttpStatus(response, 302)
        self.assertEqual(InvoiceAttachment.objects.get(invoice=self.invoice).name, "Invoice PDF")

    def test_same_file_name_twice_is_a_form_error(self):
        self.assertHttpStatus(self.post({"contract": self.contract.pk, "file": upload("msa.pdf")}), 302)
        response = self.post({"contract": self.contract.pk, "file": upload("msa.pdf")})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "already exists")
        self.assertEqual(ContractAttachment.objects.count(), 1)
        # Renamed, the same file is accepted.
        response = self.post({"contract": self.contract.pk, "file": upload("msa.pdf"), "name": "MSA copy"})
        self.assertHttpStatus(response, 302)

    def test_file_is_required(self):
        response = self.post({"contract": self.contract.pk, "name": "No file"})
        self.assertHttpStatus(response, 200)
        self.assertFalse(ContractAttachment.objects.exists())

    def test_disallowed_extension_is_refused(self):
        before = set(_stored_files())
        response = self.post(
            {"contract": self.contract.pk, "file": upload("setup.exe", b"MZ", "application/x-msdownload")}
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "Files of type .exe are not allowed")
        self.assertFalse(ContractAttachment.objects.exists())
        self.assertEqual(set(_stored_files()), before)

    def test_oversized_file_is_refused(self):
        with override_settings(PLUGINS_CONFIG=plugin_settings(attachment_max_size_bytes=10)):
            response = self.post({"contract": self.contract.pk, "file": upload("big.pdf", b"x" * 11)})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "the limit is 10 bytes")
        self.assertFalse(ContractAttachment.objects.exists())

    def test_file_at_the_limit_is_accepted(self):
        with override_settings(PLUGINS_CONFIG=plugin_settings(attachment_max_size_bytes=10)):
            response = self.post({"contract": self.contract.pk, "file": upload("ok.pdf", b"%PDF-1.4\n\n")})
        self.assertHttpStatus(response, 302)

    def test_extension_list_comes_from_settings(self):
        with override_settings(PLUGINS_CONFIG=plugin_settings(attachment_allowed_extensions=["txt"])):
            refused = self.post({"contract": self.contract.pk, "file": upload("a.pdf")})
            accepted = self.post({"contract": self.contract.pk, "file": upload("a.txt", b"hello", "text/plain")})
        self.assertHttpStatus(refused, 200)
        self.assertHttpStatus(accepted, 302)
        self.assertEqual(list(ContractAttachment.objects.values_list("name", flat=True)), ["a.txt"])

    def test_contract_the_user_cannot_see_is_refused(self):
        hidden = ContractFactory(name="Hidden")
        self.remove_permissions("nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contract", constraints={"pk": str(self.contract.pk)})
        response = self.post({"contract": hidden.pk, "file": upload()})
        self.assertHttpStatus(response, 200)
        self.assertFalse(ContractAttachment.objects.exists())


def _stored_files():
    for root, _dirs, files in os.walk(PRIVATE_ROOT):
        for name in files:
            yield os.path.join(root, name)


@override_settings(MEDIA_ROOT=MEDIA_ROOT, PLUGINS_CONFIG=plugin_settings(), EXEMPT_VIEW_PERMISSIONS=[])
class DownloadTest(TestCase):
    """Files leave only through the download views, to users who may view the attachment row."""

    def setUp(self):
        super().setUp()
        self.contract = ContractFactory(name="Core support")
        self.attachment = contract_attachment(self.contract, "Signed MSA", filename="msa.pdf")
        self.other = contract_attachment(self.contract, "SOW", filename="sow.pdf", content=b"%PDF sow")
        self.invoice_attachment = invoice_attachment(InvoiceFactory(), "Invoice", filename="inv.pdf")
        self.url = reverse(URL.format("contractattachment_download"), kwargs={"pk": self.attachment.pk})

    def test_with_view_permission(self):
        self.add_permissions("nautobot_contracts.view_contractattachment", "nautobot_contracts.view_contract")
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response["Content-Disposition"], f'attachment; filename="{self.attachment.filename}"')
        self.assertTrue(self.attachment.filename.startswith("msa"))
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(b"".join(response.streaming_content), PDF)

    def test_without_permission(self):
        self.add_permissions("nautobot_contracts.view_contract")
        self.assertHttpStatus(self.client.get(self.url), [403, 404])

    def test_permission_constrained_to_another_row(self):
        self.add_permissions("nautobot_contracts.view_contract")
        self.add_permissions("nautobot_contracts.view_contractattachment", constraints={"pk": str(self.other.pk)})
        self.assertHttpStatus(self.client.get(self.url), [403, 404])
        other_url = reverse(URL.format("contractattachment_download"), kwargs={"pk": self.other.pk})
        response = self.client.get(other_url)
        self.assertHttpStatus(response, 200)
        self.assertEqual(b"".join(response.streaming_content), b"%PDF sow")

    def test_anonymous_is_sent_to_login(self):
        self.client.logout()
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 302)
        self.assertIn(settings.LOGIN_URL, response["Location"])

    def test_invoice_attachment_download(self):
        url = reverse(URL.format("invoiceattachment_download"), kwargs={"pk": self.invoice_attachment.pk})
        self.assertHttpStatus(self.client.get(url), [403, 404])
        self.add_permissions("nautobot_contracts.view_invoiceattachment")
        self.assertHttpStatus(self.client.get(url), 404)  # not without view permission on the invoice
        self.add_permissions("nautobot_contracts.view_invoice")
        response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        self.assertTrue(response["Content-Disposition"].startswith("attachment;"))

    def test_missing_file_is_404(self):
        self.add_permissions("nautobot_contracts.view_contractattachment", "nautobot_contracts.view_contract")
        self.attachment.file.storage.delete(self.attachment.file.name)
        self.assertHttpStatus(self.client.get(self.url), 404)


@private_root
class DeleteRemovesFileTest(TestCase):
    """Deleting an attachment in the UI removes its file once the transaction commits."""

    def setUp(self):
        super().setUp()
        self.add_permissions(
            "nautobot_contracts.delete_contractattachment",
            "nautobot_contracts.view_contractattachment",
            "nautobot_contracts.delete_invoiceattachment",
            "nautobot_contracts.view_invoiceattachment",
            # Attachments are reachable only through a contract or invoice the user may view.
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_invoice",
        )

    def test_delete_contract_attachment(self):
        attachment = contract_attachment(ContractFactory(), "Signed MSA")
        storage, name = attachment.file.storage, attachment.file.name
        self.assertTrue(storage.exists(name))
        url = reverse(URL.format("contractattachment_delete"), kwargs={"pk": attachment.pk})
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            response = self.client.post(url, {"confirm": True})
        self.assertHttpStatus(response, 302)
        self.assertTrue(callbacks)
        self.assertFalse(ContractAttachment.objects.filter(pk=attachment.pk).exists())
        self.assertFalse(storage.exists(name))

    def test_delete_invoice_attachment(self):
        attachment = invoice_attachment(InvoiceFactory(), "Vendor invoice")
        storage, name = attachment.file.storage, attachment.file.name
        url = reverse(URL.format("invoiceattachment_delete"), kwargs={"pk": attachment.pk})
        with self.captureOnCommitCallbacks(execute=True):
            self.assertHttpStatus(self.client.post(url, {"confirm": True}), 302)
        self.assertFalse(storage.exists(name))

    def test_file_kept_until_commit(self):
        attachment = contract_attachment(ContractFactory(), "Signed MSA")
        storage, name = attachment.file.storage, attachment.file.name
        url = reverse(URL.format("contractattachment_delete"), kwargs={"pk": attachment.pk})
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            self.client.post(url, {"confirm": True})
        self.assertTrue(callbacks)
        self.assertTrue(storage.exists(name))
        storage.delete(name)

    def test_refused_delete_keeps_the_file(self):
        attachment = contract_attachment(ContractFactory(), "Signed MSA")
        self.remove_permissions("nautobot_contracts.delete_contractattachment")
        url = reverse(URL.format("contractattachment_delete"), kwargs={"pk": attachment.pk})
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(url, {"confirm": True})
        self.assertHttpStatus(response, [403, 404])
        self.assertTrue(attachment.file.storage.exists(attachment.file.name))
