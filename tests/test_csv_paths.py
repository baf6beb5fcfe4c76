"""One CSV semantics on every door: the import page, REST text/csv, Nautobot's Import Objects Job, the app's Job.

Each door gets the same files: an Excel file with a byte-order mark, a typo in a column name, a header with no rows,
a file that is not UTF-8. Nothing is created by a bad file, and the error names the problem.
"""

import datetime
import functools
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.change_logging import web_request_context
from nautobot.apps.testing import APITestCase, TestCase, create_job_result_and_run_job
from nautobot.data_validation.models import RegularExpressionValidationRule
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices
from nautobot.extras.models import ComputedField, Job as JobModel, JobLogEntry, JobResult, ObjectChange, Status
from nautobot.tenancy.models import Tenant
from nautobot.users.models import User

from nautobot_contracts.api.serializers import ContractSerializer
from nautobot_contracts.csv_import import CSVImportError, import_csv
from nautobot_contracts.models import Contract, ServiceProvider
from tests.base import MigratedStateTransactionTestCase

PERMISSIONS = [
    "nautobot_contracts.add_contract",
    "nautobot_contracts.view_contract",
    "nautobot_contracts.view_serviceprovider",
    "extras.view_status",
    "tenancy.view_tenant",
]
HEADER = "provider__name,name,status__name,start_date,end_date,currency,tenant__name\n"
GOOD = (
    HEADER
    + "Paths Provider,first,Active,2026-01-01,2026-12-31,USD,\n"
    + "Paths Provider,second,Active,2026-01-01,2026-12-31,EUR,Ops\n"
)
EXCEL = "\ufeff" + GOOD  # Excel's "CSV UTF-8" starts with a byte-order mark
TYPO = GOOD.replace("currency,", "currency,recuring_cost,").replace("USD,", "USD,100,").replace("EUR,", "EUR,50,")
HEADER_ONLY = HEADER
LATIN_1 = (HEADER + "Paths Provider,caf\u00e9,Active,2026-01-01,2026-12-31,USD,\n").encode("latin-1")


def make_fixtures():
    ServiceProvider.objects.create(name="Paths Provider")
    Tenant.objects.create(name="Ops")


def rows(n, prefix="row"):
    return HEADER + "".join(f"Paths Provider,{prefix}{i},Active,2026-01-01,2026-12-31,USD,\n" for i in range(n))


class ImportCSVRulesTest(TestCase):
    """csv_import.import_csv, which the import page and the app's Job call."""

    def setUp(self):
        super().setUp()
        make_fixtures()

    def run_import(self, data):
        return import_csv(data, ContractSerializer, Contract.objects.all())

    def assert_refused(self, data, *needles):
        with self.assertRaises(CSVImportError) as raised:
            self.run_import(data)
        self.assertFalse(Contract.objects.exists())
        text = " ".join(str(error) for error in raised.exception.errors)
        for needle in needles:
            self.assertIn(needle, text)
        return raised.exception.errors

    def test_byte_order_mark_is_not_part_of_the_first_column(self):
        for data in (EXCEL, EXCEL.encode("utf-8")):
            Contract.objects.all().delete()
            created = self.run_import(data)
            self.assertEqual(sorted(c.name for c in created), ["first", "second"])
            self.assertEqual({c.provider.name for c in created}, {"Paths Provider"})

    def test_blank_optional_relation_is_none(self):
        first, second = sorted(self.run_import(GOOD), key=lambda contract: contract.name)
        self.assertIsNone(first.tenant)
        self.assertEqual(second.tenant.name, "Ops")

    def test_unknown_column_is_an_error_naming_it(self):
        (error,) = self.assert_refused(TYPO, '"recuring_cost"')
        self.assertEqual(error.line, 1)

    def test_data_without_header_is_an_error(self):
        data_only = "".join(GOOD.splitlines(keepends=True)[1:])
        self.assert_refused(data_only, "Unknown columns", "The first line must be the column headers")

    def test_header_only_and_empty_files_are_errors(self):
        self.assert_refused(HEADER_ONLY, "No data rows")
        self.assert_refused("", "The file is empty")
        self.assert_refused(b"", "The file is empty")

    def test_not_utf8_is_an_error_naming_the_encoding(self):
        (error,) = self.assert_refused(LATIN_1, "not UTF-8", "0xe9", "CSV UTF-8")
        self.assertEqual(error.line, 2)

    def test_unnamed_column_is_an_error(self):
        self.assert_refused(GOOD.replace("tenant__name", ""), "Column 7 has no name")

    def test_check_constraint_refusal_names_the_rule(self):
        """Constraints are left to the INSERT; its refusal is still reported on the right line, nothing kept."""
        bad = rows(3) + "Paths Provider,backwards,Active,2026-06-01,2026-01-01,USD,\n"
        errors = self.assert_refused(bad)
        self.assertEqual({error.line for error in errors}, {5})

    def test_query_count_does_not_grow_with_rows(self):
        """Validation looks each related object up once per file; the inserts are one statement a chunk.

        Nautobot's custom-field defaults (CreateOnlyDefault(CustomFieldDefaultValues()), a query per row) are read
        once per file, so the count does not grow with the rows at all.
        """

        def queries_for(count, prefix):
            with CaptureQueriesContext(connection) as queries:
                self.run_import(rows(count, prefix))
            return len(queries)

        queries_for(2, "warm")  # fills Nautobot's caches (content types, custom validators)
        ten, sixty = queries_for(10, "a"), queries_for(60, "b")
        self.assertEqual(sixty, ten)
        self.assertLessEqual(ten, 30)
        self.assertEqual(Contract.objects.count(), 72)

    def test_validation_lookups_do_not_grow_with_rows(self):
        """Custom fields and data validation rules are read from the cache once per file, not once per row."""
        from django.core.cache import cache  # pylint: disable=import-outside-toplevel

        def reads_for(count, prefix):
            with mock.patch.object(cache, "get", wraps=cache.get) as get:
                self.run_import(rows(count, prefix))
            return get.call_count

        reads_for(2, "warm")
        self.assertEqual(reads_for(10, "a"), reads_for(60, "b"))

    def test_data_validation_rules_still_refuse_rows(self):
        """The rules read once per file are enforced on every row (Nautobot's data validation)."""
        rule = RegularExpressionValidationRule.objects.create(
            name="Contract names start with a letter",
            content_type=ContentType.objects.get_for_model(Contract),
            field="name",
            regular_expression="^[A-Za-z]",
        )
        errors = self.assert_refused(rows(2, "ok") + "Paths Provider,9-bad,Active,2026-01-01,2026-12-31,USD,\n")
        self.assertEqual([error.line for error in errors], [4])
        # Outside an import the rules are Nautobot's, unchanged (the memo lives only inside the import).
        rule.enabled = False
        rule.save()
        created = self.run_import(rows(1, "x") + "Paths Provider,9-fine,Active,2026-01-01,2026-12-31,USD,\n")
        self.assertEqual(len(created), 2)

    def test_created_objects_are_change_logged(self):
        """Under a request or Job, each contract is logged as created by the importing user, in one bulk insert.

        Nautobot's to_objectchange() reads each object's tags and custom fields: three queries an object beyond the
        one of clean() (see above), no more.
        """
        user = User.objects.create_user(username="importer", is_superuser=True)

        def queries_for(count, prefix):
            with web_request_context(user), CaptureQueriesContext(connection) as queries:
                self.run_import(rows(count, prefix))
            return len(queries)

        queries_for(2, "warm")
        ten, sixty = queries_for(10, "a"), queries_for(60, "b")
        self.assertLessEqual(sixty - ten, 4 * 50, (ten, sixty))
        changes = ObjectChange.objects.filter(changed_object_type=ContentType.objects.get_for_model(Contract))
        self.assertEqual(changes.filter(action="create", user=user).count(), 72)
        self.assertEqual(changes.get(object_repr="b59").object_data["name"], "b59")

    def test_a_chunk_refused_at_insert_is_replayed_to_name_its_lines(self):
        Contract.objects.create(
            provider=ServiceProvider.objects.get(name="Paths Provider"),
            name="taken",
            status=Status.objects.get(name="Active"),
            currency="USD",
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2026, 12, 31),
        )
        data = rows(4) + "Paths Provider,taken,Active,2026-01-01,2026-12-31,USD,\n" + rows(3, "late")[len(HEADER) :]
        with mock.patch("nautobot_contracts.csv_import.importer.CHUNK_ROWS", 3):
            with self.assertRaises(CSVImportError) as raised:
                self.run_import(data)
        self.assertEqual([error.line for error in raised.exception.errors], [6])
        self.assertIn("Conflicts with an existing object", str(raised.exception.errors[0]))
        self.assertEqual(list(Contract.objects.values_list("name", flat=True)), ["taken"])

    def test_progress_is_reported(self):
        calls = []
        with (
            mock.patch("nautobot_contracts.csv_import.importer.PROGRESS_EVERY", 4),
            mock.patch("nautobot_contracts.csv_import.importer.CHUNK_ROWS", 3),
        ):
            import_csv(rows(10), ContractSerializer, Contract.objects.all(), progress=lambda *a: calls.append(a))
        self.assertEqual(calls, [(4, 10), (8, 10), (10, 10)])


class UIImportPageTest(TestCase):
    """`/plugins/contracts/contracts/import/`."""

    URL = "/plugins/contracts/contracts/import/"

    def setUp(self):
        super().setUp()
        self.add_permissions(*PERMISSIONS)
        make_fixtures()

    def page_text(self, response):
        return response.content.decode()

    def test_excel_file_imports(self):
        upload = SimpleUploadedFile("contracts.csv", EXCEL.encode("utf-8"), content_type="text/csv")
        response = self.client.post(self.URL, {"csv_file": upload})
        self.assertHttpStatus(response, 200)
        self.assertEqual(Contract.objects.count(), 2)
        # Imported rows are change-logged (so webhooks fire): one create record per object.
        changes = ObjectChange.objects.filter(changed_object_type=ContentType.objects.get_for_model(Contract))
        self.assertEqual(changes.count(), 2)

    def test_bad_files_show_the_error_and_import_nothing(self):
        for data, needle in (
            (TYPO, "recuring_cost"),
            (HEADER_ONLY, "No data rows"),
            (LATIN_1, "not UTF-8"),
        ):
            payload = data if isinstance(data, bytes) else data.encode("utf-8")
            upload = SimpleUploadedFile("contracts.csv", payload, content_type="text/csv")
            response = self.client.post(self.URL, {"csv_file": upload})
            self.assertHttpStatus(response, 200, needle)
            self.assertIn(needle, self.page_text(response))
            self.assertFalse(Contract.objects.exists())

    def test_page_lists_at_most_shown_rows_of_what_it_imported(self):
        with (
            mock.patch("nautobot_contracts.csv_import.hooks.BACKGROUND_ROWS", 100),
            mock.patch("nautobot_contracts.csv_import.hooks.SHOWN_ROWS", 3),
        ):
            response = self.client.post(self.URL, {"csv_data": rows(7, prefix="shown")})
        self.assertHttpStatus(response, 200)
        self.assertEqual(Contract.objects.filter(name__startswith="shown").count(), 7)
        content = response.content.decode()
        self.assertIn("Imported 7 contracts (the first 3 are listed below)", content)
        self.assertEqual(sum(f">shown{i}<" in content for i in range(7)), 3)

    def test_large_file_runs_as_a_job_and_redirects_to_its_result(self):
        JobModel.objects.filter(job_class_name="ImportContractsCSV").update(enabled=True)
        self.add_permissions("extras.run_job")
        synchronous = functools.partialmethod(JobResult.enqueue_job.__func__, synchronous=True)
        with (
            mock.patch("nautobot_contracts.csv_import.hooks.BACKGROUND_ROWS", 5),
            mock.patch.object(JobResult, "enqueue_job", classmethod(synchronous)),
        ):
            response = self.client.post(self.URL, {"csv_data": rows(8)})
        self.assertHttpStatus(response, 302)
        job_result = JobResult.objects.get(job_model__job_class_name="ImportContractsCSV")
        self.assertEqual(response.url, job_result.get_absolute_url())
        self.assertEqual(job_result.status, JobResultStatusChoices.STATUS_SUCCESS)
        self.assertEqual(Contract.objects.count(), 8)
        self.assertEqual(job_result.result, {"imported": 8})


class RESTImportTest(APITestCase):
    """REST `POST` with `Content-Type: text/csv`."""

    URL = "/api/plugins/contracts/contracts/"

    def setUp(self):
        super().setUp()
        self.add_permissions(*PERMISSIONS)
        make_fixtures()

    def post_csv(self, data):
        return self.client.post(self.URL, data=data, content_type="text/csv", **self.header)

    def test_excel_file_imports(self):
        response = self.post_csv(EXCEL.encode("utf-8"))
        self.assertHttpStatus(response, 201)
        self.assertEqual(Contract.objects.filter(provider__name="Paths Provider").count(), 2)

    def test_created_body_shows_each_objects_computed_fields(self):
        """Core shows computed fields in non-GET bodies; the 201 reads the model's list once, each row its own value."""
        ComputedField.objects.create(
            content_type=ContentType.objects.get_for_model(Contract), key="shout", label="Shout",
            template="{{ obj.name|upper }}",
        )  # fmt: skip
        response = self.post_csv(GOOD)
        self.assertHttpStatus(response, 201)
        rows = response.json()
        self.assertEqual(len(rows), 2)
        self.assertEqual([row["computed_fields"] for row in rows], [{"shout": row["name"].upper()} for row in rows])
        self.assertTrue(all("relationships" in row for row in rows))

    def test_bad_files_are_a_400_naming_the_problem(self):
        for data, needle in (
            (TYPO, 'Line 1: Unknown column \\"recuring_cost\\"'),
            (HEADER_ONLY, "No data rows"),
            (LATIN_1, "not UTF-8"),
        ):
            response = self.post_csv(data)
            self.assertHttpStatus(response, 400, needle)
            self.assertIn(needle, response.content.decode())
            self.assertFalse(Contract.objects.exists())


class JobImportTest(MigratedStateTransactionTestCase):
    """Nautobot's Import Objects Job (the list's Import button) and the app's Import contracts CSV Job."""

    def setUp(self):
        super().setUp()
        make_fixtures()
        self.content_type = ContentType.objects.get_for_model(Contract).pk

    def run_job(self, module, name, text):
        result = create_job_result_and_run_job(module, name, content_type=self.content_type, csv_data=text)
        errors = JobLogEntry.objects.filter(job_result=result, log_level=LogLevelChoices.LOG_ERROR)
        return result, " ".join(errors.values_list("message", flat=True))

    def test_import_objects_job_follows_the_app_rules(self):
        # Excel's byte-order mark and a blank tenant__name (none) import.
        result, errors = self.run_job("nautobot.core.jobs", "ImportObjects", EXCEL)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, errors)
        self.assertEqual(
            sorted(Contract.objects.values_list("name", "tenant__name")), [("first", None), ("second", "Ops")]
        )
        Contract.objects.all().delete()
        # An unknown column is an error naming it; nothing is imported.
        result, errors = self.run_job("nautobot.core.jobs", "ImportObjects", TYPO)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertIn('Unknown column "recuring_cost"', errors)
        self.assertFalse(Contract.objects.exists())

    def test_app_job_imports_and_reports_lines(self):
        result, errors = self.run_job("nautobot_contracts.jobs.imports", "ImportContractsCSV", EXCEL)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, errors)
        self.assertEqual(Contract.objects.count(), 2)
        Contract.objects.all().delete()
        bad = rows(3) + "Paths Provider,bad,Active,2026-13-01,2026-12-31,USD,\n"
        for text, needle in ((TYPO, 'Line 1: Unknown column "recuring_cost"'), (bad, "Line 5: start_date:")):
            result, errors = self.run_job("nautobot_contracts.jobs.imports", "ImportContractsCSV", text)
            self.assertEqual(result.status, JobResultStatusChoices.STATUS_FAILURE)
            self.assertIn(needle, errors)
            self.assertFalse(Contract.objects.exists())

    def test_app_job_logs_progress_and_change_logs_the_objects(self):
        with mock.patch("nautobot_contracts.csv_import.importer.PROGRESS_EVERY", 4):
            result, errors = self.run_job("nautobot_contracts.jobs.imports", "ImportContractsCSV", rows(10))
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, errors)
        messages = list(JobLogEntry.objects.filter(job_result=result).values_list("message", flat=True))
        for progress in ("Checked 4 of 10 rows.", "Checked 8 of 10 rows.", "Checked 10 of 10 rows."):
            self.assertIn(progress, messages)
        self.assertIn("Imported 10 contracts.", messages)
        # Bulk-inserted, yet each contract is change-logged as created by the Job's user, under one change id.
        changes = ObjectChange.objects.filter(changed_object_type=ContentType.objects.get_for_model(Contract))
        self.assertEqual(changes.filter(action="create", user=result.user).count(), 10)
        self.assertEqual(len(set(changes.values_list("request_id", flat=True))), 1)
