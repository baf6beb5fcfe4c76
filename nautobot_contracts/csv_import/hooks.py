"""The doors into the importer.

REST text/csv (ContractsCSVParser), the <model>/import/ page (CSVImportViewMixin), and the hand-off of large files
to the "Import contracts CSV" Job.
"""

from django.contrib import messages
from django.shortcuts import redirect
from nautobot.apps.api import NautobotCSVParser
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from nautobot_contracts.csv_import import importer
from nautobot_contracts.csv_import.reading import CSVImportError, count_rows, decode
from nautobot_contracts.csv_import.rows import parse_rows

# Files with more data rows than this are imported by the "Import contracts CSV" Job, not in the web request.
BACKGROUND_ROWS = 500
# The import page lists at most this many of the objects it created.
SHOWN_ROWS = BACKGROUND_ROWS


class ContractsCSVParser(NautobotCSVParser):
    """REST ``text/csv``: Nautobot's parser with the app's file rules; every problem is a 400 naming its line."""

    def parse(self, stream, media_type=None, parser_context=None):
        """Parse like NautobotCSVParser, but through :func:`parse_rows` (BOM, encoding, header, blank relations)."""
        parser_context = parser_context or {}
        view = parser_context.get("view")
        serializer_class = parser_context.get("serializer_class") or (view.get_serializer_class() if view else None)
        if serializer_class is None:
            raise ParseError("No serializer_class was provided by the parser_context")
        request = parser_context.get("request")
        try:
            text = decode(stream.read())
            rows = parse_rows(text, serializer_class, request)
        except CSVImportError as error:
            raise ParseError([str(row_error) for row_error in error.errors]) from error
        if request is not None:
            # A create from this text goes through the bulk importer (ContractsModelViewSet.create).
            request.contracts_csv_text = text
        data = [row for _, row in rows]
        if "pk" in parser_context.get("kwargs", {}):
            return data[0]
        return data


IMPORT_JOB = ("nautobot_contracts.jobs.imports", "ImportContractsCSV")


def import_job_model(user):
    """The installed, enabled import Job `user` may run, or None (a large file is then imported in the request)."""
    from nautobot.extras.models import Job as JobModel  # pylint: disable=import-outside-toplevel

    module_name, class_name = IMPORT_JOB
    job_model = JobModel.objects.filter(module_name=module_name, job_class_name=class_name, enabled=True).first()
    if job_model is None or not job_model.installed or not user.has_perm("extras.run_job"):
        return None
    return job_model


class CSVImportViewMixin:
    """Put before NautobotUIViewSet in a viewset's bases so its ``<model>/import/`` page uses :func:`import_csv`.

    It replaces the page's form handling (Nautobot's ``perform_bulk_create``) rather than the deprecated
    ``_process_bulk_create_form`` hook: the uploaded file is read as bytes here, so a file that is not UTF-8 is a form
    error instead of a 500 in Nautobot's file field. A file over BACKGROUND_ROWS rows is handed to the "Import
    contracts CSV" Job and the page redirects to its JobResult.
    """

    def perform_bulk_create(self, request):
        """Validate the form, then import the pasted text or uploaded file, all or nothing."""
        upload = request.FILES.get("csv_file")
        if upload is not None:
            self.bulk_create_active_tab = "csv-file"
        field_name = "csv_file" if upload is not None else "csv_data"
        # The file is left out of the form: Nautobot's CSVFileField decodes it and raises on a non-UTF-8 byte.
        form = self.get_form_class()(data=request.POST)
        if not form.is_valid():
            return self.form_invalid(form)
        data = upload.read() if upload is not None else form.cleaned_data["csv_data"] or ""
        model = self.queryset.model
        job_model = import_job_model(request.user) if count_rows(data) > BACKGROUND_ROWS else None
        try:
            if job_model is not None:
                return self._enqueue_import(request, job_model, model, decode(data))
            new_objects = importer.import_csv(data, self.serializer_class, self.get_queryset(), request=request)
        except CSVImportError as error:
            for row_error in error.errors:
                form.add_error(field_name, str(row_error))
            return self.form_invalid(form)
        message = f"Imported {len(new_objects)} {model._meta.verbose_name_plural}"
        if len(new_objects) > SHOWN_ROWS:
            # Rendering every row of a large file would take longer than importing it.
            message += f" (the first {SHOWN_ROWS} are listed below)"
        self.logger.info(message)
        messages.success(request, message)
        table = self.get_table_class()(new_objects[:SHOWN_ROWS])
        return Response({"table": table, "template": "import_success.html"})

    def _enqueue_import(self, request, job_model, model, text):
        from django.contrib.contenttypes.models import ContentType  # pylint: disable=import-outside-toplevel
        from nautobot.extras.models import JobResult  # pylint: disable=import-outside-toplevel

        job_result = JobResult.enqueue_job(
            job_model, request.user, content_type=ContentType.objects.get_for_model(model).pk, csv_data=text
        )
        messages.info(
            request,
            "A large file: importing it in the background; nothing is created unless every line is valid.",
        )
        return redirect(job_result.get_absolute_url())
