"""File attachments (signed PDFs, SOWs, renewal letters, vendor invoices) stored against contracts and invoices.

Files live in the app's private storage (nautobot_contracts.storage), never under MEDIA_ROOT; they are immutable
after upload and leave only through the permission-checked download views.
"""

import hashlib
import mimetypes
import os
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import BaseManager, PrimaryModel, RestrictedQuerySet, extras_features

from nautobot_contracts import clock
from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES
from nautobot_contracts.storage import attachment_storage, delete_unless_committed

# The OS limit per path component (ext4, XFS, APFS...), counted in bytes of the UTF-8 name.
MAX_FILE_NAME_BYTES = 255

OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# extension -> (content type, the magic bytes its content must start with).
BINARY_TYPES = {
    "pdf": ("application/pdf", (b"%PDF",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "zip": ("application/zip", ZIP),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    "doc": ("application/msword", OLE),
    "xls": ("application/vnd.ms-excel", OLE),
    "msg": ("application/vnd.ms-outlook", OLE),
}
# Text formats have no magic bytes: the type follows the extension, and binary content is refused.
TEXT_TYPES = {"csv": "text/csv", "txt": "text/plain", "md": "text/markdown", "eml": "message/rfc822"}


def _extension(filename):
    return os.path.splitext(filename)[1].lower().lstrip(".")


def content_type_for(filename):
    """The type a stored file is served as, from its extension alone (unknown extensions are opaque bytes)."""
    extension = _extension(filename)
    if extension in TEXT_TYPES:
        return TEXT_TYPES[extension]
    if extension in BINARY_TYPES:
        return BINARY_TYPES[extension][0]
    return "application/octet-stream"


def default_attachment_name(name, filename):
    """An attachment's name: the one given, else its file's (shortened) name. Model, form and REST all use this."""
    return name or attachment_file_name(filename)


def attachment_file_name(filename):
    """The base name of an upload, shortened (keeping its extension) to fit one path component of 255 bytes."""
    name = os.path.basename(filename or "")
    encoded = name.encode("utf-8")
    if len(encoded) <= MAX_FILE_NAME_BYTES:
        return name
    stem, ext = os.path.splitext(name)
    ext_bytes = ext.encode("utf-8")
    if len(ext_bytes) > 32:  # not a real extension: shorten the whole name
        stem, ext_bytes = name, b""
    # errors="ignore" drops a multi-byte character cut in half at the end.
    stem = stem.encode("utf-8")[: MAX_FILE_NAME_BYTES - len(ext_bytes)].decode("utf-8", errors="ignore")
    return stem + ext_bytes.decode("utf-8")


def _dated_upload_path(folder, filename):
    # A random directory per file: the stored path cannot be guessed, and the file keeps its own name for downloads.
    today = clock.today()
    return f"{folder}/{today:%Y}/{today:%m}/{secrets.token_hex(16)}/{attachment_file_name(filename)}"


def contract_attachment_path(instance, filename):
    """contract_attachments/YYYY/MM/<random token>/<filename> in the attachment storage."""
    return _dated_upload_path("contract_attachments", filename)


def invoice_attachment_path(instance, filename):
    """invoice_attachments/YYYY/MM/<random token>/<filename> in the attachment storage."""
    return _dated_upload_path("invoice_attachments", filename)


def inspect_attachment_file(uploaded):
    """Check an upload against the settings and its own bytes; return (content type, size, SHA-256).

    Refuses an extension not in `attachment_allowed_extensions`, a file over `attachment_max_size_bytes`, a binary
    file whose bytes are not of its extension's format, and a text file containing NUL bytes.
    """
    max_size = get_setting("attachment_max_size_bytes")
    allowed = {ext.lower().lstrip(".") for ext in get_setting("attachment_allowed_extensions")}
    extension = _extension(uploaded.name)
    if extension not in allowed:
        raise ValidationError(
            f"Files of type .{extension or '(none)'} are not allowed. Allowed: {', '.join(sorted(allowed))}.",
            code="extension",
        )
    if uploaded.size is not None and uploaded.size > max_size:
        raise ValidationError(f"The file is {uploaded.size} bytes; the limit is {max_size} bytes.", code="size")
    digest, head, size, has_nul = hashlib.sha256(), b"", 0, False
    for chunk in uploaded.chunks():
        digest.update(chunk)
        if len(head) < 16:
            head += chunk[: 16 - len(head)]
        size += len(chunk)
        has_nul = has_nul or b"\x00" in chunk
    if extension in BINARY_TYPES:
        content_type, signatures = BINARY_TYPES[extension]
        if not head.startswith(signatures):
            raise ValidationError(
                f"The file's content is not a .{extension} file ({content_type}); its bytes contradict its name.",
                code="content",
            )
    elif extension in TEXT_TYPES:
        content_type = TEXT_TYPES[extension]
        if has_nul:
            raise ValidationError(f"A .{extension} file must be text; this one contains binary data.", code="content")
    else:
        content_type = mimetypes.guess_type(uploaded.name)[0] or "application/octet-stream"
    return content_type, size, digest.hexdigest()


class AttachmentQuerySet(RestrictedQuerySet):
    """restrict() also requires view permission on the parent contract or invoice, so every surface follows."""

    def restrict(self, user, action="view"):
        """Rows the user may `action`, whose parent the user may view."""
        queryset = super().restrict(user, action)
        if user.is_superuser:
            return queryset
        parent_model = self.model._meta.get_field(self.model.parent_field).related_model
        parents = parent_model.objects.restrict(user, "view").values("pk")
        return queryset.filter(**{f"{self.model.parent_field}__in": parents})


class AttachmentFileField(models.FileField):
    """A FileField in the app's private attachment storage."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("storage", attachment_storage)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        """Deconstruct as the plain FileField of the migrations, without the storage.

        The storage is runtime configuration (settings), not schema: leaving it out keeps migrations independent of
        it, so moving attachments to a private storage (or S3) needs no migration.
        """
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("storage", None)
        return name, "django.db.models.FileField", args, kwargs


class AttachmentBase(PrimaryModel):
    """Fields and behaviour shared by contract and invoice attachments."""

    name = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True, help_text="Defaults to the file name")
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    size = models.PositiveBigIntegerField(editable=False, default=0, help_text="Bytes")
    mime_type = models.CharField(max_length=CHARFIELD_MAX_LENGTH, editable=False, blank=True)
    sha256 = models.CharField(max_length=64, editable=False, blank=True, verbose_name="SHA-256")

    objects = BaseManager.from_queryset(AttachmentQuerySet)()

    parent_field = None
    immutable_message = "An attachment's file cannot be replaced; upload the new file as a new attachment."

    class Meta:
        abstract = True

    def __str__(self):
        return self.name or self.filename

    @classmethod
    def from_db(cls, db, field_names, values):
        """Remember the stored file's name, so a replacement can be refused."""
        instance = super().from_db(db, field_names, values)
        instance._stored_file_name = instance.__dict__.get("file")
        return instance

    @property
    def filename(self):
        """The stored file's base name (the uploaded name, shortened to the OS limit if need be)."""
        return os.path.basename(self.file.name) if self.file else ""

    def _new_upload(self):
        return bool(self.file) and not getattr(self.file, "_committed", True)

    def _file_replaced(self):
        if not self.present_in_database:
            return False
        stored = getattr(self, "_stored_file_name", None)
        return self._new_upload() or (stored is not None and str(self.file.name or "") != str(stored or ""))

    def clean(self):
        """Default the name to the file name (before the uniqueness check); check the upload; refuse a new file."""
        super().clean()
        if self._file_replaced():
            raise ValidationError({"file": self.immutable_message})
        if self._new_upload():
            self.file.name = attachment_file_name(self.file.name)
            try:
                self._inspection = (self.file.file, inspect_attachment_file(self.file))
            except ValidationError as error:
                raise ValidationError({"file": error.messages}) from error
        if self.file:
            self.name = default_attachment_name(self.name, self.file.name)

    def save(self, *args, **kwargs):
        """Record the facts of a new file; keep its stored copy only if the row commits."""
        if self._file_replaced():
            raise ValidationError({"file": self.immutable_message})
        new_upload = self._new_upload()
        if new_upload:
            self.file.name = attachment_file_name(self.file.name)
            inspection = getattr(self, "_inspection", None)
            if inspection is None or inspection[0] is not self.file.file:
                inspection = (self.file.file, inspect_attachment_file(self.file))
            self.mime_type, self.size, self.sha256 = inspection[1]
        if self.file:
            self.name = default_attachment_name(self.name, self.file.name)
        try:
            super().save(*args, **kwargs)
        except Exception:
            # The file was written before the INSERT that failed (e.g. a unique clash): no row will point to it.
            if new_upload and getattr(self.file, "_committed", False):
                self.file.storage.delete(self.file.name)
            raise
        if new_upload:
            delete_unless_committed(self.file.storage, self.file.name)
        self._stored_file_name = self.file.name


@extras_features(*PRIMARY_MODEL_FEATURES)
class ContractAttachment(AttachmentBase):
    """A file stored against a contract."""

    contract = models.ForeignKey(to="nautobot_contracts.Contract", on_delete=models.CASCADE, related_name="attachments")
    file = AttachmentFileField(upload_to=contract_attachment_path, max_length=500)

    natural_key_field_names = ["contract", "name"]
    parent_field = "contract"

    class Meta:
        ordering = ["contract", "name"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "name"], name="nautobot_contracts_contractattachment_name"),
        ]


@extras_features(*PRIMARY_MODEL_FEATURES)
class InvoiceAttachment(AttachmentBase):
    """A file stored against an invoice."""

    invoice = models.ForeignKey(to="nautobot_contracts.Invoice", on_delete=models.CASCADE, related_name="attachments")
    file = AttachmentFileField(upload_to=invoice_attachment_path, max_length=500)

    natural_key_field_names = ["invoice", "name"]
    parent_field = "invoice"

    class Meta:
        ordering = ["invoice", "name"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "name"], name="nautobot_contracts_invoiceattachment_name"),
        ]
