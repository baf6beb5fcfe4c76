"""Invariants held from both sides and on every surface; bounded inputs; money and currency edge cases (issue 15)."""

import datetime
from decimal import Decimal
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, create_job_result_and_run_job
from nautobot.extras.choices import JobResultStatusChoices

from nautobot_contracts.api.serializers import ContractAssignmentSerializer, ContractSerializer, InvoiceSerializer
from nautobot_contracts.csv_import import CSVImportError, import_csv
from nautobot_contracts.currencies import REFUSED_CURRENCY_CODES, currency_choices
from nautobot_contracts.forms import ContractBulkEditForm, ContractForm
from nautobot_contracts.models import Contract, ContractAssignment, ExchangeRate, Invoice
from nautobot_contracts.models.money import DATE_MAX, DATE_MIN, NOTICE_DAYS_MAX, RENEWAL_TERM_MONTHS_MAX
from nautobot_contracts.services import renewals, terms
from tests import factories

D = datetime.date
API = "plugins-api:nautobot_contracts-api"
TODAY = D(2026, 6, 15)
DATE_FIELDS = {
    Contract: ("start_date", "end_date"),
    Invoice: ("invoice_date", "due_date", "period_start", "period_end", "paid_date"),
    ContractAssignment: ("coverage_start", "coverage_end"),
    ExchangeRate: ("effective_date",),
}


def pin_today(day=TODAY):
    """Pin django.utils.timezone.localdate (what "today" means for the paid-date rule)."""
    return mock.patch("django.utils.timezone.localdate", return_value=day)


class JobLogsOnDefaultConnection:
    """Job logs go through the test's connection (the separate "job_logs" one cannot see the test's transaction)."""

    def setUp(self):
        super().setUp()
        patcher = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)
        patcher.start()
        self.addCleanup(patcher.stop)

    def bulk_edit(self, model, objects, **form_data):
        """Run Nautobot's own Bulk Edit Objects job (what the UI's bulk edit page enqueues) as the test user."""
        self.user.is_superuser = True
        self.user.save()
        pk_list = [str(obj.pk) for obj in objects]
        return create_job_result_and_run_job(
            "nautobot.core.jobs.bulk_actions",
            "BulkEditObjects",
            content_type=ContentType.objects.get_for_model(model).pk,
            edit_all=False,
            filter_query_params={},
            pk_list=pk_list,
            form_data={"pk": pk_list, **form_data},
            username=self.user.username,
        )


class ContractSideOfCrossObjectRulesTest(JobLogsOnDefaultConnection, APITestCase):
    """A contract change that would break its invoices' currency or its assignments' windows is refused."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(
            name="Core", currency="EUR", start_date=D(2026, 1, 1), end_date=D(2026, 12, 31)
        )
        for number in ("INV-1", "INV-2", "INV-3", "INV-4"):
            factories.InvoiceFactory(contract=cls.contract, invoice_number=number)
        cls.devices = [factories.make_device(f"edge-{index}") for index in range(2)]
        factories.ContractAssignmentFactory(
            contract=cls.contract,
            assigned_object=cls.devices[0],
            coverage_start=D(2026, 3, 1),
            coverage_end=D(2026, 10, 31),
        )
        factories.ContractAssignmentFactory(contract=cls.contract, assigned_object=cls.devices[1])
        cls.free = factories.ContractFactory(name="No invoices", currency="EUR")

    def assert_unchanged(self):
        self.contract.refresh_from_db()
        self.assertEqual(
            (self.contract.currency, self.contract.start_date, self.contract.end_date),
            ("EUR", D(2026, 1, 1), D(2026, 12, 31)),
        )

    def test_model_refuses_currency_change_naming_the_first_invoices(self):
        self.contract.currency = "USD"
        with self.assertRaises(ValidationError) as caught:
            self.contract.full_clean()
        message = " ".join(caught.exception.message_dict["currency"])
        self.assertIn("INV-1, INV-2, INV-3 and more", message)
        self.assertNotIn("INV-4", message)
        self.free.currency = "USD"
        self.free.full_clean()  # no invoices, nothing to break

    def test_model_refuses_term_shrinking_past_a_coverage_window(self):
        for fields, field in (
            ({"start_date": D(2026, 4, 1)}, "start_date"),
            ({"end_date": D(2026, 9, 30)}, "end_date"),
        ):
            with self.subTest(field=field):
                contract = Contract.objects.get(pk=self.contract.pk)
                for name, value in fields.items():
                    setattr(contract, name, value)
                with self.assertRaises(ValidationError) as caught:
                    contract.full_clean()
                self.assertEqual(set(caught.exception.message_dict) & {"start_date", "end_date"}, {field})
                self.assertIn("edge-0 (coverage 2026-03-01 to 2026-10-31)", caught.exception.message_dict[field][0])
        # Shrinking to exactly the window, or anywhere for a contract without windows, is fine.
        contract = Contract.objects.get(pk=self.contract.pk)
        contract.start_date, contract.end_date = D(2026, 3, 1), D(2026, 10, 31)
        contract.full_clean()

    def test_each_cross_check_is_one_query(self):
        self.contract.currency = "EUR"
        with self.assertNumQueries(1):
            self.assertEqual(self.contract._invoice_currency_errors(), {})
        with self.assertNumQueries(1):
            self.assertEqual(self.contract._assignment_window_errors(), {})

    def test_rest_patch_refused_and_nothing_changed(self):
        self.add_permissions("nautobot_contracts.change_contract", "nautobot_contracts.view_contract")
        url = reverse(f"{API}:contract-detail", kwargs={"pk": self.contract.pk})
        for body, field in (({"currency": "USD"}, "currency"), ({"end_date": "2026-06-30"}, "end_date")):
            with self.subTest(field=field):
                response = self.client.patch(url, body, format="json", **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn(field, response.json())
                self.assert_unchanged()

    def test_ui_edit_form_refused(self):
        self.add_permissions("nautobot_contracts.change_contract", "nautobot_contracts.view_contract")
        form = ContractForm(instance=self.contract)
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data.update(currency="USD", tags=[])
        self.client.force_login(self.user)
        response = self.client.post(reverse("plugins:nautobot_contracts:contract_edit", args=[self.contract.pk]), data)
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "The currency cannot change to USD")
        self.assert_unchanged()

    def test_ui_bulk_edit_refused(self):
        for fields in ({"currency": "USD"}, {"start_date": "2026-05-01"}):
            with self.subTest(fields=fields):
                result = self.bulk_edit(Contract, [self.contract], **fields)
                self.assertEqual(result.status, JobResultStatusChoices.STATUS_FAILURE)
                self.assert_unchanged()
        result = self.bulk_edit(Contract, [self.free], currency="USD")
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS)
        self.free.refresh_from_db()
        self.assertEqual(self.free.currency, "USD")

    def test_csv_import_of_the_other_side_refused(self):
        invoice_csv = (
            "contract,invoice_number,invoice_date,amount,currency,status__name\n"
            f"{self.contract.pk},X-1,2026-03-01,1.00,USD,Open\n"
        )
        assignment_csv = (
            f"contract,assigned_object_type,assigned_object_id,coverage_start\n"
            f"{self.contract.pk},dcim.device,{factories.make_device('edge-9').pk},2025-12-01\n"
        )
        for text, serializer, model, field in (
            (invoice_csv, InvoiceSerializer, Invoice, "currency"),
            (assignment_csv, ContractAssignmentSerializer, ContractAssignment, "coverage_start"),
        ):
            with self.subTest(model=model.__name__):
                before = model.objects.count()
                with self.assertRaises(CSVImportError) as caught:
                    import_csv(text, serializer, model.objects.all())
                self.assertIn(field, {error.field for error in caught.exception.errors})
                self.assertEqual(model.objects.count(), before)
        self.assert_unchanged()


class BoundedInputsTest(TestCase):
    """Integers and dates are bounded in the model (clear errors) and in the database (nothing bypasses them)."""

    def setUp(self):
        self.contract = factories.ContractFactory(name="Bounded")

    def test_notice_and_renewal_term_bounds(self):
        for field, good, bad in (
            ("notice_period_days", (0, NOTICE_DAYS_MAX), (-1, NOTICE_DAYS_MAX + 1, 1000000)),
            ("renewal_term_months", (1, RENEWAL_TERM_MONTHS_MAX), (0, RENEWAL_TERM_MONTHS_MAX + 1)),
        ):
            for value in good:
                setattr(self.contract, field, value)
                self.contract.full_clean()
            for value in bad:
                with self.subTest(field=field, value=value):
                    contract = Contract.objects.get(pk=self.contract.pk)
                    setattr(contract, field, value)
                    with self.assertRaises(ValidationError) as caught:
                        contract.full_clean()
                    self.assertIn(field, caught.exception.message_dict)
                    if value > 0:
                        with self.assertRaises(IntegrityError), transaction.atomic():
                            Contract.objects.filter(pk=contract.pk).update(**{field: value})

    def test_dates_bounded_on_every_model(self):
        invoice = factories.InvoiceFactory(contract=self.contract)
        assignment = factories.ContractAssignmentFactory(
            contract=self.contract, assigned_object=factories.make_tenant()
        )
        rate = factories.ExchangeRateFactory()
        instances = {Contract: self.contract, Invoice: invoice, ContractAssignment: assignment, ExchangeRate: rate}
        for model, fields in DATE_FIELDS.items():
            for field in fields:
                for value in (DATE_MIN - datetime.timedelta(days=1), DATE_MAX + datetime.timedelta(days=1)):
                    with self.subTest(model=model.__name__, field=field, value=value):
                        obj = model.objects.get(pk=instances[model].pk)
                        setattr(obj, field, value)
                        with self.assertRaises(ValidationError) as caught:
                            obj.full_clean()
                        self.assertIn(field, caught.exception.message_dict)
                        self.assertIn("1900-01-01 and 2999-12-31", " ".join(caught.exception.message_dict[field]))
                        with self.assertRaises(IntegrityError), transaction.atomic():
                            model.objects.filter(pk=obj.pk).update(**{field: value})

    def test_bulk_edit_form_refuses_out_of_range_integers(self):
        form = ContractBulkEditForm(Contract, {"pk": [self.contract.pk], "notice_period_days": 1000000})
        self.assertFalse(form.is_valid())
        self.assertIn("notice_period_days", form.errors)
        form = ContractBulkEditForm(Contract, {"pk": [self.contract.pk], "renewal_term_months": 601})
        self.assertFalse(form.is_valid())
        self.assertIn("renewal_term_months", form.errors)

    def test_csv_row_with_a_huge_notice_is_a_line_error(self):
        text = (
            "provider,name,status__name,start_date,end_date,currency,notice_period_days\n"
            f"{self.contract.provider.pk},Huge,Active,2026-01-01,2026-12-31,USD,1000000\n"
        )
        with self.assertRaises(CSVImportError) as caught:
            import_csv(text, ContractSerializer, Contract.objects.all())
        self.assertEqual({(error.line, error.field) for error in caught.exception.errors}, {(2, "notice_period_days")})
        self.assertFalse(Contract.objects.filter(name="Huge").exists())


class TermComputationsAtTheBoundsTest(TestCase):
    """With the most extreme storable values, the Python and SQL term rules neither overflow nor disagree."""

    def test_extremes(self):
        extremes = [
            {"start_date": DATE_MIN, "end_date": DATE_MIN, "renewal_term_months": 1},
            {"start_date": DATE_MIN, "end_date": DATE_MIN, "renewal_term_months": RENEWAL_TERM_MONTHS_MAX},
            {"start_date": DATE_MIN, "end_date": DATE_MAX, "renewal_term_months": RENEWAL_TERM_MONTHS_MAX},
            {"start_date": DATE_MAX, "end_date": DATE_MAX, "renewal_term_months": 1},
        ]
        for index, fields in enumerate(extremes):
            factories.ContractFactory(
                name=f"Extreme {index}", auto_renew=True, notice_period_days=NOTICE_DAYS_MAX, **fields
            ).full_clean()
        for as_of in (DATE_MIN, TODAY, DATE_MAX):
            annotated = Contract.objects.annotate(
                term_end=terms.current_term_end_expression(as_of), deadline=terms.notice_deadline_expression(as_of)
            )
            for contract in annotated.select_related("status"):
                with self.subTest(contract=contract.name, as_of=as_of):
                    self.assertEqual(contract.term_end, terms.current_term_end(contract, as_of))
                    self.assertEqual(contract.deadline, terms.notice_deadline(contract, as_of))
                    terms.term_figures(contract, as_of)
                    terms.renewal_tier(contract, as_of)
            renewals.upcoming_renewals(as_of, window_days=3650)


class InvoicePaymentRulesTest(JobLogsOnDefaultConnection, APITestCase):
    """Paid needs a paid date, a paid date needs Paid, and a paid date is never after today."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory(name="Billed", currency="EUR")
        cls.paid = factories.status_for(Invoice, "Paid")
        cls.open = factories.status_for(Invoice, "Open")

    def build(self, **fields):
        defaults = {"contract": self.contract, "invoice_number": "INV-9", "invoice_date": D(2026, 6, 1)}
        defaults.update(fields)
        return Invoice(amount=Decimal("10.00"), **defaults)

    def assert_refused(self, invoice, field, text):
        with self.assertRaises(ValidationError) as caught:
            invoice.full_clean()
        self.assertIn(text, " ".join(caught.exception.message_dict[field]))

    @pin_today()
    def test_rules(self, _today):
        self.build(status=self.paid, paid_date=TODAY).full_clean()
        self.build(status=self.open).full_clean()
        self.assert_refused(self.build(status=self.paid, paid_date=D(2026, 6, 16)), "paid_date", "in the future")
        self.assert_refused(self.build(status=self.paid), "paid_date", "status Paid needs a paid date")
        self.assert_refused(self.build(status=self.open, paid_date=D(2026, 6, 2)), "paid_date", "Only a Paid invoice")

    @pin_today()
    def test_factory_obeys_the_rules(self, _today):
        factories.InvoiceFactory(contract=self.contract, status=self.paid).full_clean()
        factories.InvoiceFactory(contract=self.contract).full_clean()

    @pin_today()
    def test_rest_refuses_paid_without_date(self, _today):
        self.add_permissions("nautobot_contracts.add_invoice", "nautobot_contracts.view_contract", "extras.view_status")
        body = {
            "contract": str(self.contract.pk),
            "invoice_number": "API-1",
            "invoice_date": "2026-06-01",
            "amount": "5.00",
            "status": str(self.paid.pk),
        }
        response = self.client.post(reverse(f"{API}:invoice-list"), body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("paid_date", response.json())
        response = self.client.post(
            reverse(f"{API}:invoice-list"), {**body, "paid_date": "2026-07-01"}, format="json", **self.header
        )
        self.assertHttpStatus(response, 400)
        self.assertFalse(Invoice.objects.filter(invoice_number="API-1").exists())

    @pin_today()
    def test_bulk_edit_marks_paid_only_with_status(self, _today):
        invoice = factories.InvoiceFactory(contract=self.contract, invoice_number="B-1")
        result = self.bulk_edit(Invoice, [invoice], paid_date="2026-06-10")
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_FAILURE)
        invoice.refresh_from_db()
        self.assertIsNone(invoice.paid_date)
        result = self.bulk_edit(Invoice, [invoice], paid_date="2026-06-10", status=str(self.paid.pk))
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS)
        invoice.refresh_from_db()
        self.assertEqual((invoice.status.name, invoice.paid_date), ("Paid", D(2026, 6, 10)))


class NegativeZeroTest(APITestCase):
    """ "-0" is stored and shown as 0.00 whichever surface it came through."""

    def test_model_form_rest_and_csv(self):
        contract = factories.ContractFactory(name="Zero")
        contract.recurring_cost = "-0"
        contract.full_clean()
        self.assertFalse(contract.recurring_cost.is_signed())
        contract.one_time_cost = Decimal("-0.00")
        contract.save()  # without full_clean too
        self.assertFalse(contract.one_time_cost.is_signed())

        self.add_permissions(
            "nautobot_contracts.add_contract", "nautobot_contracts.view_serviceprovider", "extras.view_status"
        )
        body = {
            "name": "Zero API",
            "provider": str(contract.provider.pk),
            "status": str(contract.status.pk),
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "currency": "USD",
            "recurring_cost": "-0",
            "one_time_cost": "-0.00",
        }
        response = self.client.post(reverse(f"{API}:contract-list"), body, format="json", **self.header)
        self.assertHttpStatus(response, 201)
        self.assertEqual((response.json()["recurring_cost"], response.json()["one_time_cost"]), ("0.00", "0.00"))

        text = (
            "provider,name,status__name,start_date,end_date,currency,recurring_cost\n"
            f"{contract.provider.pk},Zero CSV,Active,2026-01-01,2026-12-31,USD,-0.00\n"
        )
        (created,) = import_csv(text, ContractSerializer, Contract.objects.all())
        self.assertFalse(created.recurring_cost.is_signed())

        invoice = factories.InvoiceFactory(contract=contract, amount=Decimal("-0"))
        self.assertFalse(invoice.amount.is_signed())


class CurrencyCodesTest(TestCase):
    """Non-money ISO codes are refused with the reason; real currencies and XDR are accepted."""

    def test_refused_and_accepted(self):
        contract = factories.ContractFactory(name="Money")
        for code in ("XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "xts"):
            with self.subTest(code=code):
                contract.currency = code
                with self.assertRaises(ValidationError) as caught:
                    contract.full_clean()
                self.assertIn("is not accepted", " ".join(caught.exception.message_dict["currency"]))
        for code in ("XDR", "XOF", "XAF", "XCD", "XPF", "USD"):
            with self.subTest(code=code):
                contract.currency = code
                contract.full_clean()
        offered = {code for code, _label in currency_choices()}
        self.assertFalse(offered & set(REFUSED_CURRENCY_CODES))
        self.assertIn("XDR", offered)
        with self.assertRaises(IntegrityError), transaction.atomic():
            Contract.objects.filter(pk=contract.pk).update(currency="XXX")


class UnicodeNamesTest(TestCase):
    """Emoji (also multi-code-point ones) and right-to-left names round-trip through the model and its natural key."""

    def test_round_trip(self):
        provider = factories.ServiceProviderFactory(name="مزود الخدمة")
        for name in ("📡🛰️ Uplink", "👨‍👩‍👧 team", "عقد الدعم الفني", "שירות תמיכה", "🙂"):
            with self.subTest(name=name):
                contract = factories.ContractFactory(name=name, provider=provider)
                contract.validated_save()
                stored = Contract.objects.get(pk=contract.pk)
                self.assertEqual((stored.name, str(stored)), (name, name))
                self.assertEqual(Contract.objects.get_by_natural_key(*stored.natural_key()), stored)
                self.assertTrue(stored.natural_slug)
                self.assertEqual(Contract.objects.get(name=name), stored)
