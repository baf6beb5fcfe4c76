"""File attachments (signed PDFs, SOWs, renewal letters, vendor invoices) stored against contracts and invoices."""

import hashlib
import mimetypes
import os

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from nautobot_contracts.app_settings import get_setting
from nautobot_contracts.models.features import PRIMARY_MODEL_FEATURES


def _dated_upload_path(folder, filename):
    today = timezone.now().date()
    return f"{folder}/{today:%Y}/{today:%m}/{os.path.basename(filename)}"


def contract_attachment_path(instance, filename):
    """contract_attachments/YYYY/MM/<filename> under MEDIA_ROOT."""
    return _dated_upload_path("contract_attachments", filename)


def invoice_attachment_path(instance, filename):
    """invoice_attachments/YYYY/MM/<filename> under MEDIA_ROOT."""
    return _dated_upload_path("invoice_attachments", filename)


def validate_attachment_file(uploaded):
    """Refuse files over the size limit or with an extension not in the allowed list (both from settings)."""
    max_size = get_setting("attachment_max_size_bytes")
    allowed = {ext.lower().lstrip(".") for ext in get_setting("attachment_allowed_extensions")}
    extension = os.path.splitext(uploaded.name)[1].lower().lstrip(".")
    if extension not in allowed:
        raise ValidationError(
            f"Files of type .{extension or '(none)'} are not allowed. Allowed: {', '.join(sorted(allowed))}.",
            code="extension",
        )
    if uploaded.size is not None and uploaded.size > max_size:
        raise ValidationError(
            f"The file is {uploaded.size} bytes; the limit is {max_size} bytes.",
            code="size",
        )


class AttachmentBase(PrimaryModel):
    """Fields and behaviour shared by contract and invoice attachments."""

    name = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True, help_text="Defaults to the file name")
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    size = models.PositiveBigIntegerField(editable=False, default=0, help_text="Bytes")
    mime_type = models.CharField(max_length=CHARFIELD_MAX_LENGTH, editable=False, blank=True)
    sha256 = models.CharField(max_length=64, editable=False, blank=True, verbose_name="SHA-256")

    class Meta:
        abstract = True

    def __str__(self):
        return self.name or os.path.basename(self.file.name)

    @property
    def filename(self):
        """The stored file's base name."""
        return os.path.basename(self.file.name) if self.file else ""

    def clean(self):
        """Default the name to the file name (before the uniqueness check), and enforce the upload limits."""
        super().clean()
        if not self.name and self.file:
            self.name = os.path.basename(self.file.name)
        if self.file and not getattr(self.file, "_committed", True):
            try:
                validate_attachment_file(self.file)
            except ValidationError as error:
                raise ValidationError({"file": error.messages}) from error

    def save(self, *args, **kwargs):
        """Record size, content type and SHA-256 of a new file, and default the name to the file name."""
        if self.file and not getattr(self.file, "_committed", True):
            digest = hashlib.sha256()
            for chunk in self.file.chunks():
                digest.update(chunk)
            self.sha256 = digest.hexdigest()
            self.size = self.file.size
            self.mime_type = (
                getattr(getattr(self.file, "file", None), "content_type", None)
                or mimetypes.guess_type(self.file.name)[0]
                or "application/octet-stream"
            )
        if not self.name and self.file:
            self.name = os.path.basename(self.file.name)
        super().save(*args, **kwargs)


@extras_features(*PRIMARY_MODEL_FEATURES)
class ContractAttachment(AttachmentBase):
    """A file stored against a contract."""

    contract = models.ForeignKey(to="nautobot_contracts.Contract", on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=contract_attachment_path, max_length=500)

    natural_key_field_names = ["contract", "name"]

    class Meta:
        ordering = ["contract", "name"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "name"], name="nautobot_contracts_contractattachment_name"),
        ]


@extras_features(*PRIMARY_MODEL_FEATURES)
class InvoiceAttachment(AttachmentBase):
    """A file stored against an invoice."""

    invoice = models.ForeignKey(to="nautobot_contracts.Invoice", on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=invoice_attachment_path, max_length=500)

    natural_key_field_names = ["invoice", "name"]

    class Meta:
        ordering = ["invoice", "name"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "name"], name="nautobot_contracts_invoiceattachment_name"),
        ]
