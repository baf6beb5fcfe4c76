"""Issue 15, "Attachments are private": private storage, parent permissions, derived types, immutable files."""

import copy
import os
import shutil
import tempfile

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.users.models import ObjectPermission
from rest_framework import status

from nautobot_contracts.forms import ContractAttachmentBulkEditForm
from nautobot_contracts.models import Contract, ContractAttachment, Invoice, InvoiceAttachment
from nautobot_contracts.models.attachments import MAX_FILE_NAME_BYTES, attachment_file_name
from nautobot_contracts.storage import attachment_storage, build_backend
from tests.factories import ContractFactory, InvoiceFactory

API = "plugins-api:nautobot_contracts-api"
UI = "plugins:nautobot_contracts:{}"
PDF = b"%PDF-1.4\n% private\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
HTML = b"<html><script>alert(document.cookie)</script></html>"

# A throw-away private root and MEDIA_ROOT for this module, removed when its tests are done.
PRIVATE_ROOT = tempfile.mkdtemp(prefix="nautobot-contracts-private-")
MEDIA_ROOT = tempfile.mkdtemp(prefix="nautobot-contracts-media-")


def tearDownModule():  # noqa: N802 (unittest's name)
    shutil.rmtree(PRIVATE_ROOT, ignore_errors=True)
    shutil.rmtree(MEDIA_ROOT, ignore_errors=True)


def plugin_settings(**overrides):
    """PLUGINS_CONFIG with this module's private root and some app settings replaced."""
    config = copy.deepcopy(settings.PLUGINS_CONFIG)
    config["nautobot_contracts"].update({"attachment_root": PRIVATE_ROOT, **overrides})
    return config


def private_settings(cls):
    """The module's private root and MEDIA_ROOT for a test class."""
    return override_settings(MEDIA_ROOT=MEDIA_ROOT, PLUGINS_CONFIG=plugin_settings())(cls)


def upload(filename="signed.pdf", content=PDF, content_type="application/pdf"):
    """A file as a browser would send it."""
    return SimpleUploadedFile(filename, content, content_type=content_type)


def stored_files(root=PRIVATE_ROOT):
    """Every file under a folder."""
    return sorted(os.path.join(top, name) for top, _dirs, names in os.walk(root) for name in names)


def constrain(user, model, constraints=None, actions=("view",)):
    """Give `user` an ObjectPermission on `model` limited by `constraints`."""
    permission = ObjectPermission.objects.create(
        name=f"{model._meta.model_name} {constraints}", actions=list(actions), constraints=constraints
    )
    permission.users.add(user)
    permission.object_types.add(ContentType.objects.get_for_model(model))


@private_settings
class PrivateStorageTest(TestCase):
    """Files are stored outside MEDIA_ROOT, under an unguessable path, and leave only through the download view."""

    def setUp(self):
        super().setUp()
        self.contract = ContractFactory(name="Core support")
        self.attachment = ContractAttachment(contract=self.contract, file=upload("msa.pdf"))
        self.attachment.validated_save()

    def test_file_is_in_the_private_root_not_media_root(self):
        path = os.path.realpath(self.attachment.file.path)
        self.assertTrue(path.startswith(os.path.realpath(PRIVATE_ROOT) + os.sep))
        self.assertEqual(stored_files(MEDIA_ROOT), [])
        parts = self.attachment.file.name.split("/")
        self.assertEqual(parts[0], "contract_attachments")
        self.assertRegex("/".join(parts[1:3]), r"^\d{4}/\d{2}$")
        self.assertRegex(parts[3], r"^[0-9a-f]{32}$")  # the unguessable component
        self.assertEqual(parts[4], "msa.pdf")
        self.assertEqual(self.attachment.filename, "msa.pdf")

    def test_invoice_attachment_layout(self):
        attachment = InvoiceAttachment(invoice=InvoiceFactory(), file=upload("bill.pdf"))
        attachment.validated_save()
        self.assertRegex(attachment.file.name, r"^invoice_attachments/\d{4}/\d{2}/[0-9a-f]{32}/bill\.pdf$")

    def test_two_uploads_of_one_name_get_different_paths(self):
        second = ContractAttachment(contract=self.contract, name="Copy", file=upload("msa.pdf"))
        second.validated_save()
        self.assertNotEqual(os.path.dirname(second.file.name), os.path.dirname(self.attachment.file.name))
        self.assertEqual(second.filename, "msa.pdf")

    def test_media_url_does_not_serve_it(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.get(settings.MEDIA_URL + self.attachment.file.name)
        self.assertHttpStatus(response, 404)

    def test_download_view_serves_it(self):
        self.add_permissions("nautobot_contracts.view_contractattachment", "nautobot_contracts.view_contract")
        url = reverse(UI.format("contractattachment_download"), kwargs={"pk": self.attachment.pk})
        response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        self.assertEqual(b"".join(response.streaming_content), PDF)
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="msa.pdf"')

    def test_no_storage_url(self):
        with self.assertRaises(ValueError):
            self.attachment.file.url  # noqa: B018 (the property is the test)


class StorageSettingsTest(TestCase):
    """attachment_root / attachment_storage choose the backend; a published location is refused."""

    def tearDown(self):
        attachment_storage.reset()
        super().tearDown()

    def test_default_root_is_under_nautobot_root(self):
        with override_settings(PLUGINS_CONFIG=plugin_settings(attachment_root=None), NAUTOBOT_ROOT="/srv/nb"):
            self.assertEqual(build_backend().location, "/srv/nb/attachments")

    def test_root_inside_media_root_is_refused(self):
        with override_settings(MEDIA_ROOT=MEDIA_ROOT, PLUGINS_CONFIG=plugin_settings(attachment_root=MEDIA_ROOT)):
            with self.assertRaisesRegex(ImproperlyConfigured, "served without permission checks"):
                build_backend()
        inside = os.path.join(MEDIA_ROOT, "private")
        with override_settings(MEDIA_ROOT=MEDIA_ROOT, PLUGINS_CONFIG=plugin_settings(attachment_root=inside)):
            with self.assertRaises(ImproperlyConfigured):
                build_backend()

    def test_storages_alias(self):
        storages = {**settings.STORAGES, "contracts": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
        with override_settings(STORAGES=storages, PLUGINS_CONFIG=plugin_settings(attachment_storage="contracts")):
            self.assertEqual(type(attachment_storage.backend).__name__, "InMemoryStorage")

    def test_dotted_path_with_options_and_dict(self):
        other = tempfile.mkdtemp(prefix="nautobot-contracts-other-")
        self.addCleanup(shutil.rmtree, other, ignore_errors=True)
        dotted = plugin_settings(
            attachment_storage="django.core.files.storage.FileSystemStorage",
            attachment_storage_options={"location": other},
        )
        with override_settings(PLUGINS_CONFIG=dotted):
            self.assertEqual(attachment_storage.backend.location, other)
        as_dict = plugin_settings(
            attachment_storage={
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": other},
            }
        )
        with override_settings(PLUGINS_CONFIG=as_dict):
            backend = attachment_storage.backend
            self.assertIsInstance(backend, FileSystemStorage)
            self.assertEqual(backend.location, other)

    def test_storage_follows_a_settings_change(self):
        other = tempfile.mkdtemp(prefix="nautobot-contracts-other-")
        self.addCleanup(shutil.rmtree, other, ignore_errors=True)
        with override_settings(PLUGINS_CONFIG=plugin_settings(attachment_root=other)):
            attachment = ContractAttachment(contract=ContractFactory(), file=upload())
            attachment.validated_save()
            self.assertEqual(len(stored_files(other)), 1)

    def test_field_deconstructs_without_storage(self):
        _name, path, _args, kwargs = ContractAttachment._meta.get_field("file").deconstruct()
        self.assertEqual(path, "django.db.models.FileField")
        self.assertNotIn("storage", kwargs)


@override_settings(MEDIA_ROOT=MEDIA_ROOT, PLUGINS_CONFIG=plugin_settings(), EXEMPT_VIEW_PERMISSIONS=[])
class ParentPermissionTest(APITestCase):
    """Seeing an attachment needs view permission on it and on its contract or invoice, on every surface."""

    @classmethod
    def setUpTestData(cls):
        cls.visible = ContractFactory(name="Visible contract")
        cls.hidden = ContractFactory(name="Hidden contract")
        cls.shown = ContractAttachment(contract=cls.visible, name="Shown", file=upload("shown.pdf"))
        cls.shown.validated_save()
        cls.secret = ContractAttachment(contract=cls.hidden, name="Secret", file=upload("secret.pdf"))
        cls.secret.validated_save()
        cls.visible_invoice = InvoiceFactory(contract=cls.visible, invoice_number="INV-V")
        cls.hidden_invoice = InvoiceFactory(contract=cls.visible, invoice_number="INV-H")
        cls.shown_bill = InvoiceAttachment(invoice=cls.visible_invoice, name="Bill", file=upload("bill.pdf"))
        cls.shown_bill.validated_save()
        cls.secret_bill = InvoiceAttachment(invoice=cls.hidden_invoice, name="Hidden bill", file=upload("hb.pdf"))
        cls.secret_bill.validated_save()

    def setUp(self):
        super().setUp()
        # Every attachment may be viewed, but only one contract and one invoice.
        self.add_permissions("nautobot_contracts.view_contractattachment", "nautobot_contracts.view_invoiceattachment")
        constrain(self.user, Contract, {"name": "Visible contract"})
        constrain(self.user, Invoice, {"invoice_number": "INV-V"})
        self.client.force_login(self.user)

    def test_restrict_requires_the_parent(self):
        self.assertEqual(list(ContractAttachment.objects.restrict(self.user, "view")), [self.shown])
        self.assertEqual(list(InvoiceAttachment.objects.restrict(self.user, "view")), [self.shown_bill])

    def test_restrict_without_attachment_permission_is_empty(self):
        self.remove_permissions("nautobot_contracts.view_contractattachment")
        self.assertFalse(ContractAttachment.objects.restrict(self.user, "view").exists())

    def test_download(self):
        for attachment, view in (
            (self.secret, "contractattachment_download"),
            (self.secret_bill, "invoiceattachment_download"),
        ):
            with self.subTest(view=view):
                url = reverse(UI.format(view), kwargs={"pk": attachment.pk})
                self.assertHttpStatus(self.client.get(url), 404)
        url = reverse(UI.format("contractattachment_download"), kwargs={"pk": self.shown.pk})
        self.assertHttpStatus(self.client.get(url), 200)

    def test_ui_list_and_detail(self):
        response = self.client.get(reverse(UI.format("contractattachment_list")), headers={"HX-Request": "true"})
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "Shown")
        self.assertNotContains(response, "Secret")
        self.assertHttpStatus(self.client.get(self.secret.get_absolute_url()), 404)

    def test_rest_list_and_detail(self):
        for model, shown, secret in (
            ("contractattachment", self.shown, self.secret),
            ("invoiceattachment", self.shown_bill, self.secret_bill),
        ):
            with self.subTest(model=model):
                response = self.client.get(reverse(f"{API}:{model}-list"), **self.header)
                self.assertHttpStatus(response, 200)
                self.assertEqual([row["id"] for row in response.json()["results"]], [str(shown.pk)])
                detail = reverse(f"{API}:{model}-detail", kwargs={"pk": secret.pk})
                self.assertHttpStatus(self.client.get(detail, **self.header), 404)

    def test_graphql(self):
        query = "{ contract_attachments { name } invoice_attachments { name } }"
        response = self.client.post(reverse("graphql-api"), {"query": query}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        data = response.json()["data"]
        self.assertEqual([row["name"] for row in data["contract_attachments"]], ["Shown"])
        self.assertEqual([row["name"] for row in data["invoice_attachments"]], ["Bill"])

    def test_panel_on_the_contract_page(self):
        hidden_here = ContractAttachment(contract=self.visible, name="Legal only", file=upload("legal.pdf"))
        hidden_here.validated_save()
        self.remove_permissions("nautobot_contracts.view_contractattachment")
        constrain(self.user, ContractAttachment, {"name": "Shown"})
        response = self.client.get(self.visible.get_absolute_url())
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "Shown")
        self.assertNotContains(response, "Legal only")

    def test_change_needs_the_parent_too(self):
        self.add_permissions("nautobot_contracts.change_contractattachment")
        detail = reverse(f"{API}:contractattachment-detail", kwargs={"pk": self.secret.pk})
        response = self.client.patch(detail, {"description": "x"}, format="json", **self.header)
        self.assertHttpStatus(response, 404)


@private_settings
class ContentTypeTest(APITestCase):
    """The stored and served type comes from the file, not the client; contradicting content is refused."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = ContractFactory(name="Typed")

    def setUp(self):
        super().setUp()
        self.add_permissions(
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_contractattachment",
            "nautobot_contracts.add_contractattachment",
        )

    def api_upload(self, file, **fields):
        body = {"contract": str(self.contract.pk), "file": file, **fields}
        return self.client.post(reverse(f"{API}:contractattachment-list"), body, format="multipart", **self.header)

    def test_claimed_type_is_ignored(self):
        response = self.api_upload(upload("real.pdf", PDF, "text/html"))
        self.assertHttpStatus(response, status.HTTP_201_CREATED)
        self.assertEqual(response.json()["mime_type"], "application/pdf")
        self.client.force_login(self.user)
        download = self.client.get(
            reverse(UI.format("contractattachment_download"), kwargs={"pk": response.json()["id"]})
        )
        self.assertEqual(download["Content-Type"], "application/pdf")
        self.assertEqual(download["X-Content-Type-Options"], "nosniff")

    def test_text_formats_follow_the_extension(self):
        for filename, content_type in (("a.csv", "text/csv"), ("a.txt", "text/plain"), ("a.md", "text/markdown")):
            with self.subTest(filename=filename):
                response = self.api_upload(upload(filename, b"col\nvalue\n", "application/pdf"))
                self.assertHttpStatus(response, status.HTTP_201_CREATED)
                self.assertEqual(response.json()["mime_type"], content_type)

    def test_contradicting_content_is_refused(self):
        for filename, content in (("fake.pdf", HTML), ("fake.pdf", PNG), ("fake.png", PDF), ("fake.docx", HTML)):
            with self.subTest(filename=filename, content=content[:8]):
                response = self.api_upload(upload(filename, content))
                self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
                self.assertIn("contradict", " ".join(response.json()["file"]))
        self.assertFalse(ContractAttachment.objects.exists())
        self.assertEqual(stored_files(), [])

    def test_binary_text_file_is_refused(self):
        response = self.api_upload(upload("notes.txt", b"hello\x00world", "text/plain"))
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assertIn("must be text", " ".join(response.json()["file"]))
        self.assertFalse(ContractAttachment.objects.exists())

    def test_ui_refuses_contradicting_content(self):
        self.client.force_login(self.user)
        response = self.client.post(
            reverse(UI.format("contractattachment_add")), {"contract": self.contract.pk, "file": upload("x.pdf", HTML)}
        )
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "contradict")
        self.assertFalse(ContractAttachment.objects.exists())

    def test_legacy_row_is_served_with_the_derived_type(self):
        attachment = ContractAttachment(contract=self.contract, file=upload("old.pdf"))
        attachment.validated_save()
        ContractAttachment.objects.filter(pk=attachment.pk).update(mime_type="text/html")
        self.client.force_login(self.user)
        response = self.client.get(reverse(UI.format("contractattachment_download"), kwargs={"pk": attachment.pk}))
        self.assertEqual(response["Content-Type"], "application/pdf")


@private_settings
class ImmutableFileTest(APITestCase):
    """A stored file is never replaced: a new file is a new attachment."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = ContractFactory(name="Immutable")

    def setUp(self):
        super().setUp()
        self.attachment = ContractAttachment(contract=self.contract, name="MSA", file=upload("msa.pdf"))
        self.attachment.validated_save()
        self.detail = reverse(f"{API}:contractattachment-detail", kwargs={"pk": self.attachment.pk})
        self.add_permissions(
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_contractattachment",
            "nautobot_contracts.change_contractattachment",
        )

    def assert_unchanged(self):
        before = (self.attachment.file.name, self.attachment.sha256)
        self.attachment.refresh_from_db()
        self.assertEqual((self.attachment.file.name, self.attachment.sha256), before)
        self.assertEqual(len(stored_files()), 1)

    def test_rest_patch_and_put_with_a_file(self):
        for method in ("patch", "put"):
            with self.subTest(method=method):
                body = {"contract": str(self.contract.pk), "name": "MSA", "file": upload("new.pdf", PDF + b"v2")}
                response = getattr(self.client, method)(self.detail, body, format="multipart", **self.header)
                self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
                self.assertIn("cannot be replaced", " ".join(response.json()["file"]))
                self.assert_unchanged()

    def test_rest_json_file_value(self):
        response = self.client.patch(self.detail, {"file": "other/path.pdf"}, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)
        self.assert_unchanged()

    def test_metadata_still_editable(self):
        response = self.client.patch(self.detail, {"description": "Final"}, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        self.assertEqual(response.json()["description"], "Final")
        self.assert_unchanged()

    def test_model_refuses_a_new_file(self):
        self.attachment.file = upload("new.pdf", PDF + b"v2")
        with self.assertRaisesRegex(ValidationError, "cannot be replaced"):
            self.attachment.validated_save()
        with self.assertRaisesRegex(ValidationError, "cannot be replaced"):
            self.attachment.save()

    def test_bulk_edit_form_has_no_file_field(self):
        self.assertNotIn("file", ContractAttachmentBulkEditForm.base_fields)

    def test_non_object_bodies_are_400(self):
        for body in ('"just a string"', "[1, 2]"):
            with self.subTest(body=body):
                response = self.client.generic(
                    "PATCH", self.detail, body, content_type="application/json", **self.header
                )
                self.assertHttpStatus(response, status.HTTP_400_BAD_REQUEST)

    def test_bulk_update_with_a_form_body_is_415(self):
        self.add_permissions("nautobot_contracts.change_contractattachment")
        list_url = reverse(f"{API}:contractattachment-list")
        for method in ("put", "patch"):
            for fmt in ("multipart", None):
                with self.subTest(method=method, format=fmt):
                    if fmt:
                        response = getattr(self.client, method)(
                            list_url, {"id": str(self.attachment.pk), "description": "x"}, format=fmt, **self.header
                        )
                    else:
                        response = self.client.generic(
                            method.upper(),
                            list_url,
                            f"id={self.attachment.pk}&description=x",
                            content_type="application/x-www-form-urlencoded",
                            **self.header,
                        )
                    self.assertHttpStatus(response, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        self.assert_unchanged()


@private_settings
class LongFileNameTest(APITestCase):
    """A name over the OS limit of 255 bytes is shortened, keeping its extension."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = ContractFactory(name="Long names")

    def setUp(self):
        super().setUp()
        self.add_permissions(
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_contractattachment",
            "nautobot_contracts.add_contractattachment",
        )

    def assert_shortened(self, attachment, stem_char):
        self.assertLessEqual(len(attachment.filename.encode()), MAX_FILE_NAME_BYTES)
        self.assertTrue(attachment.filename.endswith(".pdf"))
        self.assertTrue(attachment.filename.startswith(stem_char * 10))
        self.assertTrue(os.path.exists(attachment.file.path))
        self.assertEqual(attachment.name, attachment.filename)

    def test_rest(self):
        for stem_char in ("a", "é", "契"):
            with self.subTest(stem_char=stem_char):
                body = {"contract": str(self.contract.pk), "file": upload(stem_char * 300 + ".pdf")}
                url = reverse(f"{API}:contractattachment-list")
                response = self.client.post(url, body, format="multipart", **self.header)
                self.assertHttpStatus(response, status.HTTP_201_CREATED)
                self.assert_shortened(ContractAttachment.objects.get(pk=response.json()["id"]), stem_char)

    def test_ui(self):
        self.client.force_login(self.user)
        response = self.client.post(
            reverse(UI.format("contractattachment_add")),
            {"contract": self.contract.pk, "file": upload("b" * 400 + ".pdf")},
        )
        self.assertHttpStatus(response, 302)
        self.assert_shortened(ContractAttachment.objects.get(), "b")

    def test_shortening(self):
        self.assertEqual(attachment_file_name("short.pdf"), "short.pdf")
        self.assertEqual(attachment_file_name("a/b/../c.pdf"), "c.pdf")
        name = attachment_file_name("é" * 200 + ".pdf")  # 404 bytes
        self.assertIn(len(name.encode()), (254, 255))  # two-byte characters: 125 of them fit beside ".pdf"
        self.assertTrue(name.endswith(".pdf"))
        self.assertEqual(name.encode().decode(), name)


@private_settings
class UncommittedFileTest(TestCase):
    """A file is kept only if its row commits."""

    def setUp(self):
        super().setUp()
        self.contract = ContractFactory(name="Rollback")

    def rows(self):
        return ContractAttachment.objects.count() + InvoiceAttachment.objects.count()

    def test_unique_clash_leaves_no_file(self):
        ContractAttachment(contract=self.contract, name="MSA", file=upload("a.pdf")).save()
        with self.assertRaises(IntegrityError), transaction.atomic():
            ContractAttachment(contract=self.contract, name="MSA", file=upload("b.pdf")).save()
        self.assertEqual(self.rows(), 1)
        self.assertEqual(len(stored_files()), self.rows(), stored_files())

    def test_rolled_back_transaction_leaves_no_file(self):
        with self.assertRaises(RuntimeError), transaction.atomic():
            ContractAttachment(contract=self.contract, name="A", file=upload("a.pdf")).validated_save()
            InvoiceAttachment(invoice=InvoiceFactory(), name="B", file=upload("b.pdf")).validated_save()
            self.assertEqual(len(stored_files()), 2)
            raise RuntimeError("import failed")
        self.assertEqual(self.rows(), 0)
        self.assertEqual(stored_files(), [])

    def test_committed_file_is_kept(self):
        with self.captureOnCommitCallbacks(execute=True):
            attachment = ContractAttachment(contract=self.contract, name="Kept", file=upload("kept.pdf"))
            attachment.validated_save()
        self.assertEqual(stored_files(), [os.path.realpath(attachment.file.path)])
        # The test's own transaction rolls back later, after the "commit" above: remove the file by hand.
        attachment.file.storage.delete(attachment.file.name)

    def test_rest_request_that_fails_keeps_nothing(self):
        # A duplicate row inside one multipart API request cannot happen (one object per form), so the clash here
        # is between the request and an existing row, caught by the serializer before any write.
        ContractAttachment(contract=self.contract, name="msa.pdf", file=upload("msa.pdf")).validated_save()
        self.add_permissions(
            "nautobot_contracts.view_contract",
            "nautobot_contracts.view_contractattachment",
            "nautobot_contracts.add_contractattachment",
        )
        response = self.client.post(
            reverse(UI.format("contractattachment_add")), {"contract": self.contract.pk, "file": upload("msa.pdf")}
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(len(stored_files()), self.rows())
