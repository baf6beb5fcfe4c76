"""Private storage for attachment files: never under MEDIA_ROOT, which Nautobot serves to every logged-in user.

The backend is chosen by the `attachment_storage` setting (a STORAGES alias, a dotted class path, or a
{"BACKEND": ..., "OPTIONS": {...}} dict, as in STORAGES); by default a FileSystemStorage at `attachment_root`
(default NAUTOBOT_ROOT/attachments). Files leave only through the app's permission-checked download views.
"""

import os
import weakref

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils.module_loading import import_string

from nautobot_contracts.app_settings import get_setting


class PrivateFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage without URLs: its files are not published by any web server."""

    def url(self, name):
        """Refuse: a URL to a private file would bypass the download view's permission check."""
        raise ValueError("Attachment files have no public URL; use the attachment's download view.")


def attachment_root():
    """The folder of the default attachment storage (setting `attachment_root`, default NAUTOBOT_ROOT/attachments)."""
    return get_setting("attachment_root") or os.path.join(settings.NAUTOBOT_ROOT, "attachments")


def _inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def build_backend():
    """The configured storage backend, refusing a file system location that a web server publishes."""
    config = get_setting("attachment_storage")
    if not config:
        backend = PrivateFileSystemStorage(location=attachment_root())
    elif isinstance(config, str) and config in settings.STORAGES:
        backend = storages[config]
    elif isinstance(config, str):
        backend = import_string(config)(**(get_setting("attachment_storage_options") or {}))
    elif isinstance(config, dict) and "BACKEND" in config:
        backend = import_string(config["BACKEND"])(**config.get("OPTIONS", {}))
    else:
        raise ImproperlyConfigured(
            "attachment_storage must be a STORAGES alias, a dotted class path, or a dict with BACKEND and OPTIONS."
        )
    if isinstance(backend, FileSystemStorage):
        for public in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
            if public and _inside(backend.location, public):
                raise ImproperlyConfigured(
                    f"Attachment files would be stored at {backend.location}, inside {public}, which is served "
                    "without permission checks; set attachment_root (or attachment_storage) to a private location."
                )
    return backend


class AttachmentStorage(Storage):
    """Forwards to the configured backend, built on first use (settings are not read at import time)."""

    def __init__(self):
        self._backend = None

    @property
    def backend(self):
        """The configured backend (rebuilt after a settings change, e.g. override_settings in tests)."""
        if self._backend is None:
            self._backend = build_backend()
        return self._backend

    def reset(self):
        """Forget the backend, so the next use reads the settings again."""
        self._backend = None

    # Every public Storage method forwards, so a backend's own naming rules (e.g. S3 key limits) apply.
    def open(self, name, mode="rb"):  # noqa: D102
        return self.backend.open(name, mode)

    def save(self, name, content, max_length=None):  # noqa: D102
        return self.backend.save(name, content, max_length=max_length)

    def generate_filename(self, filename):  # noqa: D102
        return self.backend.generate_filename(filename)

    def get_valid_name(self, name):  # noqa: D102
        return self.backend.get_valid_name(name)

    def get_available_name(self, name, max_length=None):  # noqa: D102
        return self.backend.get_available_name(name, max_length=max_length)

    def get_alternative_name(self, file_root, file_ext):  # noqa: D102
        return self.backend.get_alternative_name(file_root, file_ext)

    def path(self, name):  # noqa: D102
        return self.backend.path(name)

    def delete(self, name):  # noqa: D102
        return self.backend.delete(name)

    def exists(self, name):  # noqa: D102
        return self.backend.exists(name)

    def listdir(self, path):  # noqa: D102
        return self.backend.listdir(path)

    def size(self, name):  # noqa: D102
        return self.backend.size(name)

    def url(self, name):  # noqa: D102
        return self.backend.url(name)

    def get_accessed_time(self, name):  # noqa: D102
        return self.backend.get_accessed_time(name)

    def get_created_time(self, name):  # noqa: D102
        return self.backend.get_created_time(name)

    def get_modified_time(self, name):  # noqa: D102
        return self.backend.get_modified_time(name)


attachment_storage = AttachmentStorage()


@receiver(setting_changed, dispatch_uid="nautobot_contracts_attachment_storage_reset")
def reset_attachment_storage(setting, **kwargs):
    """Rebuild the backend when a setting it depends on changes."""
    if setting in ("PLUGINS_CONFIG", "STORAGES", "NAUTOBOT_ROOT", "MEDIA_ROOT", "STATIC_ROOT"):
        attachment_storage.reset()


def _delete_unless_committed(state, storage, name):
    if not state["committed"]:
        storage.delete(name)


def delete_unless_committed(storage, name):
    """Delete a just-written file unless the current transaction commits.

    Django has no on_rollback hook, but it drops the on_commit callbacks of a transaction or savepoint that rolls
    back: the file goes when its callback is dropped without having run.
    """
    state = {"committed": False}

    def committed():
        state["committed"] = True

    weakref.finalize(committed, _delete_unless_committed, state, storage, name)
    transaction.on_commit(committed)
