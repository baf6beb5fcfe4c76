"""CSV import of the sample files through every path Nautobot offers, and all-or-nothing handling of bad rows."""

import csv
import datetime
from decimal import Decimal
import html
import io
from pathlib import Path
import re
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from nautobot.apps.api import get_serializer_for_model
from nautobot.apps.testing import APITestCase, TestCase, create_job_result_and_run_job
from nautobot.extras.choices import JobResultStatusChoices, LogLevelChoices
from nautobot.extras.models import JobLogEntry
from nautobot.tenancy.models import Tenant
from nautobot.users.models import ObjectPermission

from nautobot_contracts.api.serializers import ContractSerializer, InvoiceSerializer
from nautobot_contracts.choices import BillingPeriodChoices, ContractTypeChoices
from nautobot_contracts.csv_import import (
    CSVImportError,
    CSVImportViewMixin,
    import_csv,
    read_rows,
)
from nautobot_contracts.models import Contract, ExchangeRate, Invoice, ServiceProvider
from tests.base import MigratedStateTransactionTestCase

SAMPLES = Path(__file__).resolve().parent.parent / "development" / "sample-data"
# Import order, with the columns that find an imported row's object again (its natural key).
SAMPLE_FILES = [
    ("service_providers.csv", ServiceProvider, ["name"]),
    ("contracts.csv", Contract, ["provider__name", "name"]),
    ("invoices.csv", Invoice, ["contract__provider__name", "contract__name", "invoice_number"]),
    ("exchange_rates.csv", ExchangeRate, ["currency", "effective_date"]),
]
# The UI import page of each model (router prefix).
UI_PREFIX = {ServiceProvider: "service-providers", Contract: "contracts", Invoice: "invoices"}
PERMISSIONS = [
    f"nautobot_contracts.{action}_{model}"
    for model in ("serviceprovider", "contract", "invoice", "exchangerate")
    for action in ("add", "view")
] + ["extras.view_status", "tenancy.view_tenant", "circuits.view_provider"]


def sample_text(file_name):
    return (SAMPLES / file_name).read_text(encoding="utf-8")


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def sample_rows(file_name):
    return csv_rows(sample_text(file_name))


def line_of(text, marker):
    """1-based line number of the first line of `text` containing `marker`."""
    return next(number for number, line in enumerate(text.splitlines(), start=1) if marker in line)


def resolve_value(obj, column):
    """Follow `contract__provider__name` through the object's relations."""
    for part in column.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


class SampleRowsMixin:
    """Compare imported objects with the rows of the sample files they came from."""

    def assert_sample_imported(self, file_name, model, key_columns):
        rows = sample_rows(file_name)
        self.assertEqual(model.objects.count(), len(rows), file_name)
        for row in rows:
            obj = model.objects.get(**{column: row[column] for column in key_columns})
            for column, value in row.items():
                self.assert_cell(obj, column, value, f"{file_name} {row}")

    def assert_cell(self, obj, column, value, context):
        actual = resolve_value(obj, column)
        field = obj._meta.get_field(column.split("__")[0])
        if "__" in column:
            self.assertEqual(actual, value or None, f"{column} of {context}")
        elif value == "":
            if column == "currency":  # a blank invoice currency is the contract's
                self.assertEqual(actual, obj.contract.currency, context)
            elif field.null:
                self.assertIsNone(actual, f"{column} of {context}")
            else:
                self.assertEqual(actual, field.get_default(), f"{column} of {context}")
        elif field.get_internal_type() == "DateField":
            self.assertEqual(actual, datetime.date.fromisoformat(value), f"{column} of {context}")
        elif field.get_internal_type() == "DecimalField":
            self.assertEqual(actual, Decimal(value), f"{column} of {context}")
        elif field.get_internal_type() == "BooleanField":
            self.assertEqual(actual, {"true": True, "false": False}[value], f"{column} of {context}")
        elif field.get_internal_type() in ("PositiveIntegerField", "PositiveSmallIntegerField"):
            self.assertEqual(actual, int(value), f"{column} of {context}")
        else:
            self.assertEqual(actual, value, f"{column} of {context}")


# A contracts file with good and bad rows; every bad line carries a marker naming its problem.
BAD_CONTRACTS = """provider__name,name,status__name,contract_type,start_date,end_date,recurring_cost,billing_period,currency,auto_renew,notice_period_days
Bad Test Provider,good one,Active,support,2026-01-01,2026-12-31,100.00,monthly,USD,true,30
Bad Test Provider,weekly-billing,Active,support,2026-01-01,2026-12-31,100.00,weekly,USD,true,30
Nobody Inc,unknown-provider,Active,support,2026-01-01,2026-12-31,100.00,monthly,USD,false,
Bad Test Provider,"two-line
name, end-before-start",Active,support,2026-06-01,2026-01-31,100.00,annual,EUR,false,
Bad Test Provider,good two,Pending,license,2026-02-01,2027-01-31,50.00,quarterly,GBP,false,
Bad Test Provider,bad-date,Active,support,2026-13-01,2026-12-31,-5,monthly,USD,maybe,
Bad Test Provider,good one,Active,support,2026-01-01,2026-12-31,100.00,monthly,USD,true,30
"""  # noqa: E501


BAD_MARKERS = ("weekly-billing", "unknown-provider", '"two-line', "bad-date")
DUPLICATE_LINE = BAD_CONTRACTS.count("\n")  # the last line repeats the first data row


def bad_data_rows(text):
    """Numbers (1 = first row under the header) of the rows Nautobot's own import must reject in BAD_CONTRACTS."""
    rows = csv_rows(text)
    return {n for n, row in enumerate(rows, start=1) if not row["name"].startswith("good") or n == len(rows)}


def form_errors(response, prefix):
    """(number, message) of each "Line N: ..." or "Row N: ..." error shown on an import page."""
    text = html.unescape(response.content.decode())
    found = re.findall(rf"{prefix} (\d+): ([^<\n]*?)\s*(?:-->)?\s*(?:<|\n)", text)
    return sorted({(int(number), message) for number, message in found})  # the page repeats each error once


class SampleFilesTest(TestCase):
    """The sample files show what the README promises, and the README documents every column and choice."""

    def test_contracts_sample_covers_currencies_periods_and_statuses(self):
        rows = sample_rows("contracts.csv")
        self.assertTrue({"USD", "EUR", "GBP"} <= {row["currency"] for row in rows})
        self.assertEqual({row["billing_period"] for row in rows}, set(BillingPeriodChoices.values()))
        self.assertEqual({row["status__name"] for row in rows}, {"Active", "Pending", "Expired", "Cancelled"})
        self.assertEqual({row["auto_renew"] for row in rows}, {"true", "false"})
        self.assertIn("", {row["notice_period_days"] for row in rows})
        invoices = sample_rows("invoices.csv")
        self.assertTrue({"Open", "Paid", "Disputed"} <= {row["status__name"] for row in invoices})

    def test_readme_documents_every_column_and_choice(self):
        readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
        for file_name, _, _ in SAMPLE_FILES:
            self.assertIn(f"`{file_name}`", readme)
            for column in sample_text(file_name).splitlines()[0].split(","):
                self.assertIn(f"`{column}`", readme, f"{file_name} column {column}")
        for value in [*BillingPeriodChoices.values(), *ContractTypeChoices.values()]:
            self.assertIn(f"`{value}`", readme)


class ImportCSVTest(SampleRowsMixin, TestCase):
    """nautobot_contracts.csv_import: the samples import; a bad file imports nothing and names each bad line."""

    def import_file(self, serializer_class, text):
        model = serializer_class.Meta.model
        return import_csv(text, serializer_class, model.objects.all())

    def test_samples_import_in_order(self):
        for file_name, model, key_columns in SAMPLE_FILES:
            created = self.import_file(get_serializer_for_model(model), sample_text(file_name))
            self.assertEqual(len(created), len(sample_rows(file_name)))
            self.assert_sample_imported(file_name, model, key_columns)

    def test_bad_rows_import_nothing_and_are_reported_by_line(self):
        ServiceProvider.objects.create(name="Bad Test Provider")
        with self.assertRaises(CSVImportError) as raised:
            self.import_file(ContractSerializer, BAD_CONTRACTS)

        self.assertFalse(Contract.objects.exists(), "good rows must be rolled back too")
        errors = raised.exception.errors
        reported = {(error.line, error.field) for error in errors}
        expected = {
            (line_of(BAD_CONTRACTS, "weekly-billing"), "billing_period"),
            (line_of(BAD_CONTRACTS, "unknown-provider"), "provider"),
            # The quoted name spans two lines; the row starts on the first and the next row's number accounts for it.
            (line_of(BAD_CONTRACTS, '"two-line'), "end_date"),
            (line_of(BAD_CONTRACTS, "bad-date"), "start_date"),
            (line_of(BAD_CONTRACTS, "bad-date"), "recurring_cost"),
            (line_of(BAD_CONTRACTS, "bad-date"), "auto_renew"),
            # A duplicate of an earlier line of the same file.
            (DUPLICATE_LINE, ""),
        }
        self.assertEqual(reported, expected, [str(error) for error in errors])
        good_lines = {line_of(BAD_CONTRACTS, "good one"), line_of(BAD_CONTRACTS, "good two")}
        self.assertFalse(good_lines & {error.line for error in errors})
        for error in errors:
            self.assertTrue(str(error).startswith(f"Line {error.line}: "), str(error))
            self.assertTrue(error.message)

    def test_row_numbers_skip_blank_lines_and_quoted_newlines(self):
        text = 'name,description\nA,"first\nsecond\nthird"\n\nB,plain\n'
        self.assertEqual([line for line, _ in read_rows(text)], [2, 6])

    def test_blank_optional_relation_means_none_and_blank_required_relation_is_required(self):
        text = (
            "provider__name,name,status__name,start_date,end_date,currency,tenant__name\n"
            "Blank Test Provider,no tenant,Active,2026-01-01,2026-12-31,USD,\n"
        )
        ServiceProvider.objects.create(name="Blank Test Provider")
        (contract,) = self.import_file(ContractSerializer, text)
        self.assertIsNone(contract.tenant)

        with self.assertRaises(CSVImportError) as raised:
            self.import_file(ContractSerializer, text.replace("Blank Test Provider,no tenant", ",no provider"))
        self.assertEqual([(e.line, e.field) for e in raised.exception.errors], [(2, "provider")])
        self.assertIn("required", raised.exception.errors[0].message)

    def test_related_objects_by_natural_key_slug(self):
        provider = ServiceProvider.objects.create(name="Slug & Co")
        Tenant.objects.create(name="Ops")
        text = (
            "provider,name,status__name,start_date,end_date,currency,tenant\n"
            "Slug+%26+Co,by slug,Active,2026-01-01,2026-12-31,EUR,Ops\n"
        )
        (contract,) = self.import_file(ContractSerializer, text)
        self.assertEqual((contract.provider, contract.tenant.name), (provider, "Ops"))
        invoice_text = (
            "contract,invoice_number,invoice_date,amount,status__name\n"
            "Slug+%26+Co;by+slug,INV-1,2026-02-01,10.00,Open\n"
        )
        (invoice,) = self.import_file(InvoiceSerializer, invoice_text)
        self.assertEqual((invoice.contract, invoice.currency), (contract, "EUR"))

    def test_invoice_rules_spanning_fields_are_reported(self):
        ServiceProvider.objects.create(name="Rule Test Provider")
        self.import_file(
            ContractSerializer,
            "provider__name,name,status__name,start_date,end_date,currency\n"
            "Rule Test Provider,C,Active,2026-01-01,2026-12-31,USD\n",
        )
        text = (
            "contract__provider__name,contract__name,invoice_number,invoice_date,amount,currency,status__name,paid_date\n"
            "Rule Test Provider,C,OK-1,2026-02-01,10.00,USD,Paid,2026-02-10\n"
            "Rule Test Provider,C,WRONG-CURRENCY,2026-02-01,10.00,EUR,Open,\n"
            "Rule Test Provider,C,PAID-EARLY,2026-02-01,10.00,,Paid,2026-01-10\n"
        )
        with self.assertRaises(CSVImportError) as raised:
            self.import_file(InvoiceSerializer, text)
        self.assertEqual(
            {(e.line, e.field) for e in raised.exception.errors},
            {(line_of(text, "WRONG-CURRENCY"), "currency"), (line_of(text, "PAID-EARLY"), "paid_date")},
        )
        self.assertFalse(Invoice.objects.exists())

    def test_permission_constraints_are_enforced_per_row(self):
        user = self.user
        permission = ObjectPermission.objects.create(
            name="USD contracts only", actions=["add", "view"], constraints={"currency": "USD"}
        )
        permission.object_types.add(ContentType.objects.get_for_model(Contract))
        permission.users.add(user)
        self.add_permissions("nautobot_contracts.view_serviceprovider", "extras.view_status")
        ServiceProvider.objects.create(name="Perm Test Provider")
        request = RequestFactory().post("/")
        request.user = user
        text = (
            "provider__name,name,status__name,start_date,end_date,currency\n"
            "Perm Test Provider,usd,Active,2026-01-01,2026-12-31,USD\n"
            "Perm Test Provider,eur,Active,2026-01-01,2026-12-31,EUR\n"
        )
        with self.assertRaises(CSVImportError) as raised:
            import_csv(text, ContractSerializer, Contract.objects.restrict(user, "add"), request=request)
        self.assertEqual([(e.line, e.field) for e in raised.exception.errors], [(3, "")])
        self.assertIn("permission", raised.exception.errors[0].message)
        self.assertFalse(Contract.objects.exists())

    def test_data_compliance_rules_still_refuse_rows_and_their_map_is_built_once(self):
        """An app's enforced DataComplianceRule refuses its rows inside the import, which builds the rules map once."""
        from nautobot.data_validation import custom_validators  # pylint: disable=import-outside-toplevel
        from nautobot.extras.registry import registry  # pylint: disable=import-outside-toplevel

        class NoForbiddenNames(custom_validators.DataComplianceRule):
            model = "nautobot_contracts.contract"
            enforce = True

            def audit(self):
                if "forbidden" in self.context["obj"].name:
                    raise custom_validators.ComplianceError({"name": "Forbidden names are refused."})

        ServiceProvider.objects.create(name="Compliance Test Provider")
        header = "provider__name,name,status__name,start_date,end_date,currency\n"
        rows = "".join(
            f"Compliance Test Provider,{name},Active,2026-01-01,2026-12-31,USD\n" for name in ("ok", "forbidden", "ok2")
        )
        # Registered under a key no model clean() reads, so only the data validation's rules map finds it.
        registry["plugin_custom_validators"]["tests.compliance"].append(NoForbiddenNames)
        self.addCleanup(registry["plugin_custom_validators"].pop, "tests.compliance")
        self.import_file(ContractSerializer, header + rows.splitlines(keepends=True)[0].replace(",ok,", ",warm,"))
        registered = sum(len(classes) for classes in registry["plugin_custom_validators"].values())
        checks = mock.patch.object(
            custom_validators, "is_data_compliance_rule", wraps=custom_validators.is_data_compliance_rule
        )
        with checks as is_rule, self.assertRaises(CSVImportError) as raised:
            self.import_file(ContractSerializer, header + rows)
        self.assertEqual(is_rule.call_count, registered)  # one pass over the registry for three rows
        self.assertEqual([(e.line, e.field) for e in raised.exception.errors], [(3, "name")])
        self.assertIn("Forbidden names are refused.", raised.exception.errors[0].message)
        self.assertEqual(Contract.objects.count(), 1)  # the warm-up row only
        # Outside an import every call builds the map again (Nautobot's own behaviour).
        rules_map = custom_validators.get_data_compliance_rules_map
        self.assertIsNot(rules_map(), rules_map())

    def test_query_count_is_linear_in_rows(self):
        """Each row costs the same fixed number of queries (Nautobot's serializer validation and save)."""
        ServiceProvider.objects.create(name="Count Test Provider")
        header = "provider__name,name,status__name,start_date,end_date,currency\n"

        def queries_for(count, prefix):
            rows = "".join(f"Count Test Provider,{prefix}{n},Active,2026-01-01,2026-12-31,USD\n" for n in range(count))
            with CaptureQueriesContext(connection) as queries:
                self.import_file(ContractSerializer, header + rows)
            return len(queries)

        queries_for(1, "warm-up")  # first-use caches (custom fields, relationships)
        two, four, eight = queries_for(2, "a"), queries_for(4, "b"), queries_for(8, "c")
        per_row = (four - two) / 2
        self.assertEqual(eight - four, 4 * per_row, (two, four, eight))
        self.assertLessEqual(per_row, 40, (two, four, eight))


class UIImportViewTest(SampleRowsMixin, TestCase):
    """`/plugins/contracts/<model>/import/`: the samples import, a bad file imports nothing and lists every bad row."""

    def setUp(self):
        super().setUp()
        self.add_permissions(*PERMISSIONS)

    def import_url(self, model):
        url = f"/plugins/contracts/{UI_PREFIX[model]}/import/"
        try:
            resolve(url)
        except Resolver404:
            self.skipTest(f"{url} is not routed (the app's UI viewsets are not installed)")
        return url

    def test_samples_import_through_the_import_page(self):
        for file_name, model, key_columns in SAMPLE_FILES:
            if model not in UI_PREFIX:
                continue
            response = self.client.post(self.import_url(model), {"csv_data": sample_text(file_name)})
            self.assertHttpStatus(response, 200)
            self.assert_sample_imported(file_name, model, key_columns)

    def test_bad_file_imports_nothing_and_lists_every_bad_row(self):
        ServiceProvider.objects.create(name="Bad Test Provider")
        url = self.import_url(Contract)
        response = self.client.post(url, {"csv_data": BAD_CONTRACTS})
        self.assertHttpStatus(response, 200)
        self.assertFalse(Contract.objects.exists())
        if issubclass(resolve(url).func.cls, CSVImportViewMixin):
            expected = {line_of(BAD_CONTRACTS, marker) for marker in BAD_MARKERS} | {DUPLICATE_LINE}
            self.assertEqual({line for line, _ in form_errors(response, "Line")}, expected)
        else:
            # Nautobot's own form view numbers data rows, not lines: after the two-line cell they differ by two.
            self.assertEqual({row for row, _ in form_errors(response, "Row")}, bad_data_rows(BAD_CONTRACTS))

    def test_app_hook_on_the_routed_viewset_reports_file_lines(self):
        """The routed viewset's import page reports every problem with its file line, and imports nothing."""
        url = self.import_url(Contract)
        self.assertTrue(issubclass(resolve(url).func.cls, CSVImportViewMixin))
        ServiceProvider.objects.create(name="Bad Test Provider")
        response = self.client.post(url, {"csv_data": BAD_CONTRACTS})
        self.assertHttpStatus(response, 200)
        self.assertFalse(Contract.objects.exists())
        errors = form_errors(response, "Line")
        expected = {line_of(BAD_CONTRACTS, marker) for marker in BAD_MARKERS} | {DUPLICATE_LINE}
        self.assertEqual({line for line, _ in errors}, expected)
        # Every problem of a row, not only the first: the bad-date row has three.
        self.assertEqual(sum(1 for line, _ in errors if line == line_of(BAD_CONTRACTS, "bad-date")), 3, errors)

        good = "\n".join(BAD_CONTRACTS.splitlines()[:2])
        response = self.client.post(url, {"csv_data": good})
        self.assertHttpStatus(response, 200)
        self.assertEqual(form_errors(response, "Line"), [])
        self.assertEqual(list(Contract.objects.values_list("name", flat=True)), ["good one"])


class RESTImportTest(SampleRowsMixin, APITestCase):
    """REST `POST` with `Content-Type: text/csv`."""

    ENDPOINTS = {
        ServiceProvider: "service-providers",
        Contract: "contracts",
        Invoice: "invoices",
        ExchangeRate: "exchange-rates",
    }

    def setUp(self):
        super().setUp()
        self.add_permissions(*PERMISSIONS)

    def post_csv(self, model, text):
        return self.client.post(
            f"/api/plugins/contracts/{self.ENDPOINTS[model]}/", data=text, content_type="text/csv", **self.header
        )

    def test_samples_import_in_order(self):
        for file_name, model, key_columns in SAMPLE_FILES:
            response = self.post_csv(model, sample_text(file_name))
            self.assertHttpStatus(response, 201, file_name)
            self.assertEqual(len(response.json()), len(sample_rows(file_name)))
            self.assert_sample_imported(file_name, model, key_columns)

    def test_bad_rows_import_nothing_and_errors_are_listed_by_line(self):
        """REST text/csv goes through the app's importer: a 400 listing "Line N: field: message" for each bad row."""
        ServiceProvider.objects.create(name="Bad Test Provider")
        text = BAD_CONTRACTS.rsplit("\n", 2)[0] + "\n"  # without the in-file duplicate: see the next test
        response = self.post_csv(Contract, text)
        self.assertHttpStatus(response, 400)
        self.assertFalse(Contract.objects.exists())
        errors = response.json()
        self.assertTrue(all(error.startswith("Line ") for error in errors), errors)
        bad_lines = {int(error.split(":", 1)[0].removeprefix("Line ")) for error in errors}
        names = [row["name"] for row in csv_rows(text)]
        self.assertEqual(len(bad_lines), len([name for name in names if not name.startswith("good")]), errors)
        self.assertFalse(bad_lines & {line_of(text, "good one"), line_of(text, "good two")})
        self.assertIn(
            f'Line {line_of(text, "weekly-billing")}: billing_period: "weekly" is not a valid choice.', errors
        )

    def test_duplicate_rows_in_one_file_are_a_400_not_a_500(self):
        """Rows are validated one by one, then saved; the clash at save time is reported as a 400, nothing kept."""
        ServiceProvider.objects.create(name="Dup Test Provider")
        row = "Dup Test Provider,same,Active,2026-01-01,2026-12-31,USD\n"
        response = self.post_csv(Contract, "provider__name,name,status__name,start_date,end_date,currency\n" + row * 2)
        self.assertFalse(Contract.objects.exists())
        self.assertHttpStatus(response, 400)
        self.assertIn("already exists", str(response.json()))


class ImportObjectsJobTest(SampleRowsMixin, MigratedStateTransactionTestCase):
    """Nautobot's Import Objects job, which the list views' Import button runs."""

    def run_import(self, model, text, roll_back_if_error=True):
        return create_job_result_and_run_job(
            "nautobot.core.jobs",
            "ImportObjects",
            content_type=ContentType.objects.get_for_model(model).pk,
            csv_data=text,
            roll_back_if_error=roll_back_if_error,
        )

    def test_samples_import_and_a_bad_file_rolls_back_reporting_each_row(self):
        for file_name, model, key_columns in SAMPLE_FILES:
            result = self.run_import(model, sample_text(file_name))
            self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, file_name)
            self.assert_sample_imported(file_name, model, key_columns)

        ServiceProvider.objects.create(name="Bad Test Provider")
        before = Contract.objects.count()
        result = self.run_import(Contract, BAD_CONTRACTS)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_FAILURE)
        self.assertEqual(Contract.objects.count(), before, "the good rows are rolled back too")
        messages = JobLogEntry.objects.filter(job_result=result, log_level=LogLevelChoices.LOG_ERROR).values_list(
            "message", flat=True
        )
        rows_with_errors = {int(re.match(r"Row (\d+):", message).group(1)) for message in messages}
        self.assertEqual(rows_with_errors, bad_data_rows(BAD_CONTRACTS), list(messages))
