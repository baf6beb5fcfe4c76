"""UI views: Nautobot's standard view test cases per model, plus the contract page, navigation and query counts."""

import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from nautobot.apps.testing import TestCase, ViewTestCases
from nautobot.extras.models import Status
from nautobot.tenancy.models import Tenant

from nautobot_contracts.models import (
    Contract,
    ContractAssignment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    ServiceProvider,
)
from nautobot_contracts.services import money, terms
from tests.factories import (
    ContractAssignmentFactory,
    ContractFactory,
    CostSnapshotFactory,
    ExchangeRateFactory,
    InvoiceFactory,
    ServiceProviderFactory,
    make_circuit,
    make_device,
    make_rack,
    make_tenant,
    status_for,
)
from tests.pinning import pin_today

URL = "plugins:nautobot_contracts:{}"


def post_form(data):
    """Form data as a browser posts it."""
    return {key: ("" if value is None else getattr(value, "pk", value)) for key, value in data.items()}


class CsvImportMixin:
    """Import `csv_data` through the model's import route; the columns are those of the REST serializer."""

    # Related objects named in the CSV are looked up as the importing user sees them.
    csv_import_permissions = ()

    def test_import_objects_from_csv(self):
        model_name = self.model._meta.model_name
        self.add_permissions(
            f"nautobot_contracts.add_{model_name}",
            f"nautobot_contracts.view_{model_name}",
            *self.csv_import_permissions,
        )
        before = self.model.objects.count()
        response = self.client.post(reverse(URL.format(f"{model_name}_import")), {"csv_data": "\n".join(self.csv_data)})
        self.assertHttpStatus(response, 200)
        self.assertEqual(self.model.objects.count(), before + len(self.csv_data) - 1, response.content.decode())


class ServiceProviderViewTest(CsvImportMixin, ViewTestCases.PrimaryObjectViewTestCase):
    model = ServiceProvider

    @classmethod
    def setUpTestData(cls):
        for name in ("Acme Carrier", "Globex Support", "Initech Colo", "Umbrella SaaS"):
            ServiceProviderFactory(name=name)
        cls.form_data = {
            "name": "Hooli Networks",
            "account_number": "HN-1",
            "portal_url": "https://portal.example.com",
            "support_email": "support@example.com",
            "support_phone": "+1 555 0100",
            "description": "Transit",
            "comments": "Escalate via portal",
        }
        cls.update_data = {"name": "Hooli Networks 2", "account_number": "HN-2", "description": "Edited"}
        cls.bulk_edit_data = {"account_number": "BULK-1", "description": "Bulk edited"}
        cls.csv_data = (
            "name,account_number,support_email",
            "CSV Provider 1,CSV-1,a@example.com",
            "CSV Provider 2,CSV-2,b@example.com",
        )


class ContractViewTest(CsvImportMixin, ViewTestCases.PrimaryObjectViewTestCase):
    model = Contract
    csv_import_permissions = ("nautobot_contracts.view_serviceprovider", "extras.view_status")

    @classmethod
    def setUpTestData(cls):
        cls.provider = ServiceProviderFactory(name="Acme Carrier")
        other = ServiceProviderFactory(name="Globex Support")
        for index in range(3):
            ContractFactory(provider=cls.provider, name=f"Support {index}")
        ContractFactory(provider=other, name="Transit")
        active = status_for(Contract, "Active")
        pending = status_for(Contract, "Pending")
        tenant = make_tenant("Finance")
        cls.form_data = {
            "provider": cls.provider.pk,
            "name": "Maintenance 2027",
            "contract_number": "MNT-2027",
            "status": pending.pk,
            "contract_type": "maintenance",
            "tenant": tenant.pk,
            "start_date": datetime.date(2027, 1, 1),
            "end_date": datetime.date(2027, 12, 31),
            "auto_renew": True,
            "notice_period_days": 60,
            "renewal_term_months": 12,
            "recurring_cost": Decimal("300.00"),
            "billing_period": "quarterly",
            "one_time_cost": Decimal("50.00"),
            "currency": "EUR",
            "cost_center": "CC-1",
            "quantity": 12,
            "unit": "devices",
            "purchase_order": "PO-9",
            "description": "Router maintenance",
            "comments": "Signed copy attached",
        }
        cls.update_data = {**cls.form_data, "name": "Maintenance 2027 (amended)", "status": active.pk}
        cls.bulk_edit_data = {
            "contract_type": "warranty",
            "cost_center": "CC-BULK",
            "currency": "GBP",
            "quantity": 40,
            "unit": "ports",
        }
        cls.csv_data = (
            "provider__name,name,status__name,start_date,end_date,recurring_cost,billing_period,currency,quantity,unit",
            "Acme Carrier,CSV contract 1,Active,2026-01-01,2026-12-31,10.00,monthly,USD,250,seats",
            "Acme Carrier,CSV contract 2,Pending,2026-02-01,2027-01-31,120.00,annual,EUR,,",
        )


class InvoiceViewTest(CsvImportMixin, ViewTestCases.PrimaryObjectViewTestCase):
    model = Invoice
    csv_import_permissions = ("nautobot_contracts.view_contract", "extras.view_status")

    @classmethod
    def setUpTestData(cls):
        cls.contract = ContractFactory(name="Transit", currency="EUR")
        for month in (1, 2, 3):
            InvoiceFactory(
                contract=cls.contract, invoice_number=f"INV-{month}", invoice_date=datetime.date(2026, month, 5)
            )
        paid = status_for(Invoice, "Paid")
        cls.form_data = {
            "contract": cls.contract.pk,
            "invoice_number": "INV-100",
            "status": paid.pk,
            "invoice_date": datetime.date(2026, 4, 2),
            "due_date": datetime.date(2026, 5, 2),
            "period_start": datetime.date(2026, 3, 1),
            "period_end": datetime.date(2026, 3, 31),
            "amount": Decimal("99.95"),
            "currency": "EUR",
            "paid_date": datetime.date(2026, 4, 20),
            "description": "March",
        }
        # Marking invoices paid sets the Paid status and the paid date together (a paid date needs Paid).
        cls.bulk_edit_data = {"status": paid.pk, "description": "Paid in June", "paid_date": datetime.date(2026, 6, 1)}
        cls.csv_data = (
            "contract,invoice_number,invoice_date,amount,status__name",
            f"{cls.contract.pk},CSV-1,2026-07-01,10.00,Open",
            f"{cls.contract.pk},CSV-2,2026-08-01,20.00,Open",
        )

    def test_blank_currency_defaults_to_the_contracts(self):
        self.add_permissions("nautobot_contracts.add_invoice", "nautobot_contracts.view_contract", "extras.view_status")
        data = {**self.form_data, "invoice_number": "INV-200", "currency": ""}
        response = self.client.post(reverse(URL.format("invoice_add")), data=post_form(data))
        self.assertHttpStatus(response, 302)
        self.assertEqual(Invoice.objects.get(invoice_number="INV-200").currency, "EUR")

    def test_currency_other_than_the_contracts_is_refused(self):
        self.add_permissions("nautobot_contracts.add_invoice", "nautobot_contracts.view_contract", "extras.view_status")
        data = {**self.form_data, "invoice_number": "INV-201", "currency": "USD"}
        response = self.client.post(reverse(URL.format("invoice_add")), data=post_form(data))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "must equal its contract")
        self.assertFalse(Invoice.objects.filter(invoice_number="INV-201").exists())


class ContractAssignmentViewTest(CsvImportMixin, ViewTestCases.PrimaryObjectViewTestCase):
    model = ContractAssignment
    csv_import_permissions = ("nautobot_contracts.view_contract", "dcim.view_device")

    @classmethod
    def setUpTestData(cls):
        cls.contract = ContractFactory(name="Support")
        rack = make_rack("R1")
        cls.devices = [make_device(f"dev-{index}", rack=rack) for index in range(3)]
        for device in cls.devices:
            ContractAssignmentFactory(contract=cls.contract, assigned_object=device)
        ContractAssignmentFactory(contract=cls.contract, assigned_object=rack)
        new_device = make_device("dev-new", rack=rack)
        cls.device_type = ContentType.objects.get_for_model(new_device)
        cls.form_data = {
            "contract": cls.contract.pk,
            "assigned_object_type": cls.device_type.pk,
            "device": new_device.pk,
            "assigned_object_id": new_device.pk,
            "coverage_start": datetime.date(2026, 3, 1),
            "coverage_end": datetime.date(2026, 9, 30),
            "allocation_weight": Decimal("2.5000"),
            "quantity": 3,
            "comments": "Spare",
        }
        cls.update_data = {**cls.form_data, "coverage_start": datetime.date(2026, 4, 1)}
        cls.bulk_edit_data = {
            "comments": "Bulk",
            "coverage_end": datetime.date(2026, 10, 31),
            "allocation_weight": Decimal("0.5000"),
            "quantity": 7,
        }
        cls.csv_data = (
            "contract,assigned_object_type,assigned_object_id,allocation_weight,quantity",
            f"{cls.contract.pk},dcim.device,{new_device.pk},1.5,4",
        )


class ExchangeRateViewTest(CsvImportMixin, ViewTestCases.PrimaryObjectViewTestCase):
    model = ExchangeRate

    @classmethod
    def setUpTestData(cls):
        for currency, rate in (("EUR", "1.08"), ("GBP", "1.27"), ("JPY", "0.0067")):
            ExchangeRateFactory(currency=currency, rate=Decimal(rate))
        cls.form_data = {
            "currency": "CHF",
            "rate": Decimal("1.12000000"),
            "effective_date": datetime.date(2026, 2, 1),
            "description": "Treasury rate",
        }
        cls.bulk_edit_data = {"description": "Month-end rates"}
        cls.csv_data = (
            "currency,rate,effective_date",
            "SEK,0.095,2026-01-01",
            "NOK,0.093,2026-01-01",
        )

    def test_unknown_currency_is_refused(self):
        self.add_permissions("nautobot_contracts.add_exchangerate")
        data = {"currency": "XXZ", "rate": "1.0", "effective_date": "2026-01-01"}
        response = self.client.post(reverse(URL.format("exchangerate_add")), data=data)
        self.assertHttpStatus(response, 200)
        self.assertFalse(ExchangeRate.objects.filter(currency="XXZ").exists())


class CostSnapshotViewTest(ViewTestCases.GetObjectViewTestCase, ViewTestCases.ListObjectsViewTestCase):
    """Cost history is read-only in the UI: list and detail exist, nothing else does."""

    model = CostSnapshot

    @classmethod
    def setUpTestData(cls):
        for day, currency in ((1, "USD"), (1, "EUR"), (2, "USD")):
            CostSnapshotFactory(snapshot_date=datetime.date(2026, 1, day), currency=currency)

    def test_write_routes_do_not_exist(self):
        for action in ("add", "import", "bulk_edit", "bulk_delete", "edit", "delete", "changelog", "notes"):
            with self.subTest(action=action), self.assertRaises(NoReverseMatch):
                reverse(URL.format(f"costsnapshot_{action}"))

    def test_write_urls_answer_404_or_405(self):
        self.user.is_superuser = True
        self.user.save()
        snapshot = CostSnapshot.objects.first()
        base = reverse(URL.format("costsnapshot_list"))
        for suffix in ("add/", "import/", "edit/", "delete/", f"{snapshot.pk}/edit/", f"{snapshot.pk}/delete/"):
            with self.subTest(suffix=suffix):
                self.assertHttpStatus(self.client.get(base + suffix), [404, 405])
                self.assertHttpStatus(self.client.post(base + suffix, {"confirm": True}), [404, 405])
        self.assertEqual(CostSnapshot.objects.count(), 3)

    def test_list_offers_no_add_or_import(self):
        self.user.is_superuser = True
        self.user.save()
        response = self.client.get(reverse(URL.format("costsnapshot_list")))
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        self.assertNotIn("/cost-snapshots/add/", content)
        self.assertNotIn("nautobot.core.jobs.ImportObjects", content)
        self.assertNotIn("/cost-snapshots/import/", content)


class ContractDetailTest(TestCase):
    """The contract page: computed figures from services.terms, related tables, buttons."""

    def setUp(self):
        super().setUp()
        self.today = datetime.date(2026, 6, 15)  # pinned: the page computes its figures as of clock.today()
        pin_today(self, self.today)
        self.contract = ContractFactory(
            name="Core support",
            start_date=self.today - datetime.timedelta(days=300),
            end_date=self.today + datetime.timedelta(days=40),
            recurring_cost=Decimal("1000.00"),
            billing_period="quarterly",
            currency="EUR",
            notice_period_days=30,
        )

    def get_page(self):
        return self.client.get(self.contract.get_absolute_url())

    def test_computed_figures_shown(self):
        self.add_permissions("nautobot_contracts.view_contract")
        response = self.get_page()
        self.assertHttpStatus(response, 200)
        content = response.content.decode()
        monthly = money.money_str(terms.monthly_cost(self.contract))
        self.assertEqual(monthly, "333.33")
        self.assertIn(f"{monthly} EUR", content)
        deadline = terms.notice_deadline(self.contract, self.today)
        self.assertIn(f"{date_format(deadline)} (in 10 days)", content)
        self.assertEqual(terms.renewal_tier(self.contract, self.today), terms.TIER_URGENT)
        self.assertIn("Urgent", content)
        self.assertIn("Current term end", content)

    def test_auto_renewed_contract_shows_rolled_term(self):
        self.contract.auto_renew = True
        self.contract.end_date = self.today - datetime.timedelta(days=5)
        self.contract.validated_save()
        self.add_permissions("nautobot_contracts.view_contract")
        content = self.get_page().content.decode()
        term_end = terms.current_term_end(self.contract, self.today)
        self.assertGreater(term_end, self.today)
        self.assertIn(date_format(terms.notice_deadline(self.contract, self.today)), content)
        self.assertIn(date_format(term_end), content)

    def test_inactive_contract_has_no_renewal_figures(self):
        self.contract.status = Status.objects.get(name="Cancelled")
        self.contract.validated_save()
        self.add_permissions("nautobot_contracts.view_contract")
        content = self.get_page().content.decode()
        self.assertNotIn("(in 10 days)", content)
        self.assertNotIn("Urgent", content)

    def test_related_tables_restricted_to_viewer(self):
        visible = InvoiceFactory(contract=self.contract, invoice_number="INV-VISIBLE", currency="EUR")
        hidden = InvoiceFactory(contract=self.contract, invoice_number="INV-HIDDEN", currency="EUR")
        device = make_device("edge-1")
        ContractAssignmentFactory(contract=self.contract, assigned_object=device)
        self.add_permissions("nautobot_contracts.view_contract", "nautobot_contracts.view_contractassignment")
        self.add_permissions("nautobot_contracts.view_invoice", constraints={"pk": str(visible.pk)})
        content = self.get_page().content.decode()
        self.assertIn("INV-VISIBLE", content)
        self.assertNotIn("INV-HIDDEN", content)
        self.assertNotIn(hidden.get_absolute_url(), content)
        self.assertIn(device.get_absolute_url(), content)

    def test_assign_and_attach_buttons_need_add_permission(self):
        assign_url = reverse(URL.format("contractassignment_add"))
        attach_url = reverse(URL.format("contractattachment_add"))
        self.add_permissions("nautobot_contracts.view_contract")
        content = self.get_page().content.decode()
        self.assertNotIn(f"{assign_url}?contract={self.contract.pk}", content)
        self.add_permissions("nautobot_contracts.add_contractassignment", "nautobot_contracts.add_contractattachment")
        content = self.get_page().content.decode()
        self.assertIn(f"{assign_url}?contract={self.contract.pk}", content)
        self.assertIn(f"{attach_url}?contract={self.contract.pk}", content)

    def test_provider_page_lists_its_contracts(self):
        other = ContractFactory(name="Someone else's")
        self.add_permissions("nautobot_contracts.view_serviceprovider", "nautobot_contracts.view_contract")
        content = self.client.get(self.contract.provider.get_absolute_url()).content.decode()
        self.assertIn(self.contract.get_absolute_url(), content)
        self.assertNotIn(other.get_absolute_url(), content)


class AssignmentFormViewTest(TestCase):
    """Assigning through the UI: type, then object; prefilled from the contract page."""

    def setUp(self):
        super().setUp()
        self.contract = ContractFactory(name="Support")
        self.add_permissions(
            "nautobot_contracts.add_contractassignment",
            "nautobot_contracts.view_contractassignment",
            "nautobot_contracts.view_contract",
            "dcim.view_device",
            "circuits.view_circuit",
            "tenancy.view_tenant",
        )
        self.url = reverse(URL.format("contractassignment_add"))

    def test_contract_prefilled_from_query(self):
        response = self.client.get(f"{self.url}?contract={self.contract.pk}")
        self.assertHttpStatus(response, 200)
        form = response.context["form"]
        self.assertEqual(str(form.initial["contract"]), str(self.contract.pk))
        self.assertContains(response, f'<option value="{self.contract.pk}" selected>Support</option>', html=True)

    def test_object_selects_are_dynamic_and_type_limited(self):
        response = self.client.get(self.url)
        form = response.context["form"]
        choices = {ct.model_class()._meta.label_lower for ct in form.fields["assigned_object_type"].queryset}
        self.assertEqual(choices, {"dcim.device", "dcim.rack", "dcim.location", "circuits.circuit",
                                   "virtualization.virtualmachine", "virtualization.cluster", "tenancy.tenant",
                                   "tenancy.tenantgroup"})  # fmt: skip
        self.assertContains(response, 'data-url="/api/dcim/devices/"')
        self.assertContains(response, 'data-url="/api/circuits/circuits/"')
        # The target id is never typed by the user.
        self.assertContains(response, 'type="hidden" name="assigned_object_id"')

    def test_assign_circuit(self):
        circuit = make_circuit("CID-42")
        circuit_type = ContentType.objects.get_for_model(circuit)
        data = {"contract": self.contract.pk, "assigned_object_type": circuit_type.pk, "circuit": circuit.pk}
        response = self.client.post(self.url, post_form(data))
        self.assertHttpStatus(response, 302)
        assignment = ContractAssignment.objects.get(contract=self.contract)
        self.assertEqual(assignment.assigned_object, circuit)

    def test_only_the_chosen_types_select_is_read(self):
        circuit = make_circuit("CID-43")
        tenant = make_tenant("Ops")
        tenant_type = ContentType.objects.get_for_model(Tenant)
        data = {
            "contract": self.contract.pk,
            "assigned_object_type": tenant_type.pk,
            "tenant": tenant.pk,
            "circuit": circuit.pk,  # left over from an earlier choice of type
        }
        self.assertHttpStatus(self.client.post(self.url, post_form(data)), 302)
        self.assertEqual(ContractAssignment.objects.get(contract=self.contract).assigned_object, tenant)

    def test_missing_object_is_an_error(self):
        device_type = ContentType.objects.get_for_model(make_device("dev-x"))
        data = {"contract": self.contract.pk, "assigned_object_type": device_type.pk}
        response = self.client.post(self.url, post_form(data))
        self.assertHttpStatus(response, 200)
        self.assertContains(response, "Select the device to assign.")
        self.assertFalse(ContractAssignment.objects.exists())

    def test_object_the_user_cannot_see_is_refused(self):
        self.remove_permissions("dcim.view_device")
        device = make_device("secret-dev")
        device_type = ContentType.objects.get_for_model(device)
        data = {"contract": self.contract.pk, "assigned_object_type": device_type.pk, "device": device.pk}
        response = self.client.post(self.url, post_form(data))
        self.assertHttpStatus(response, 200)
        self.assertFalse(ContractAssignment.objects.exists())

    def test_duplicate_assignment_is_refused(self):
        device = make_device("dev-dup")
        ContractAssignmentFactory(contract=self.contract, assigned_object=device)
        device_type = ContentType.objects.get_for_model(device)
        data = {"contract": self.contract.pk, "assigned_object_type": device_type.pk, "device": device.pk}
        response = self.client.post(self.url, post_form(data))
        self.assertHttpStatus(response, 200)
        self.assertEqual(ContractAssignment.objects.count(), 1)

    def test_edit_form_shows_current_target(self):
        device = make_device("dev-edit")
        assignment = ContractAssignmentFactory(contract=self.contract, assigned_object=device)
        self.add_permissions("nautobot_contracts.change_contractassignment")
        response = self.client.get(reverse(URL.format("contractassignment_edit"), kwargs={"pk": assignment.pk}))
        self.assertHttpStatus(response, 200)
        form = response.context["form"]
        self.assertEqual(str(form.initial["device"]), str(device.pk))
        self.assertContains(response, f'<option value="{device.pk}" selected>dev-edit</option>', html=True)


class NavigationTest(TestCase):
    def test_contracts_tab_lists_every_model(self):
        from nautobot_contracts.navigation import menu_items  # pylint: disable=import-outside-toplevel

        (tab,) = menu_items
        self.assertEqual(tab.name, "Contracts")
        items = {item.name: item for group in tab.groups for item in group.items}
        self.assertEqual(
            set(items),
            {
                "Dashboard", "Service providers", "Contracts", "Invoices", "Assignments", "Contract attachments",
                "Invoice attachments", "Exchange rates", "Budgets", "Cost snapshots", "Calendar",
                "Feed tokens", "Alerts",
            },
        )  # fmt: skip
        # The dashboard is the first item of the Contracts menu.
        first_group = min(tab.groups, key=lambda group: group.weight)
        self.assertEqual(min(first_group.items, key=lambda item: item.weight).name, "Dashboard")
        self.assertEqual(items["Cost snapshots"].buttons, ())
        self.assertEqual(items["Alerts"].buttons, ())  # raised by the Jobs: no add or import
        self.assertEqual([button.title for button in items["Contracts"].buttons], ["Add", "Import"])
        # Attachments are uploaded through the add form: CSV cannot carry a file.
        self.assertEqual([button.title for button in items["Contract attachments"].buttons], ["Add"])
        for name, item in items.items():
            for button in item.buttons:
                with self.subTest(item=name, button=button.title):
                    reverse(button.link)
                    model_name = button.link.split(":")[-1].rsplit("_", 1)[0]
                    self.assertEqual(set(button.permissions), {f"nautobot_contracts.add_{model_name}"})

    def test_menu_rendered_for_superuser(self):
        self.user.is_superuser = True
        self.user.save()
        content = self.client.get("/").content.decode()
        for model_name in ("serviceprovider", "contract", "costsnapshot", "exchangerate"):
            self.assertIn(reverse(URL.format(f"{model_name}_list")), content)


class ListQueryCountTest(TestCase):
    """A list page runs the same number of queries for 3 rows as for 30."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def count_queries(self, model_name):
        url = reverse(URL.format(f"{model_name}_list"))
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(f"{url}?per_page=50", headers={"HX-Request": "true"})
        self.assertHttpStatus(response, 200)
        return len(queries)

    def grow(self, model_name, build, counts=(3, 30)):
        """Build rows up to each count and measure the list; the first, cold request fills caches and is not kept."""
        measured = []
        self.count_queries(model_name)
        for target in counts:
            while len(getattr(self, f"_{model_name}_rows", [])) < target:
                rows = getattr(self, f"_{model_name}_rows", [])
                rows.append(build(len(rows)))
                setattr(self, f"_{model_name}_rows", rows)
            measured.append(self.count_queries(model_name))
        self.assertEqual(measured[0], measured[1], f"{model_name}: {measured}")
        return measured

    def test_contracts(self):
        provider = ServiceProviderFactory()
        tenant = make_tenant()
        self.grow("contract", lambda i: ContractFactory(provider=provider, tenant=tenant, name=f"C{i}"))

    def test_invoices(self):
        contracts = [ContractFactory() for _ in range(3)]
        self.grow("invoice", lambda i: InvoiceFactory(contract=contracts[i % 3], invoice_number=f"I{i}"))

    def test_assignments(self):
        contract = ContractFactory()
        rack = make_rack("Q1")
        targets = [
            lambda i: make_device(f"q-dev-{i}", rack=rack),
            lambda i: make_circuit(f"Q-CID-{i}"),
            lambda i: make_tenant(f"Q-tenant-{i}"),
        ]
        self.grow(
            "contractassignment",
            lambda i: ContractAssignmentFactory(contract=contract, assigned_object=targets[i % 3](i)),
        )

    def test_providers_and_rates_and_snapshots(self):
        self.grow("serviceprovider", lambda i: ServiceProviderFactory(name=f"P{i}"))
        self.grow(
            "exchangerate",
            lambda i: ExchangeRateFactory(effective_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=i)),
        )
        self.grow(
            "costsnapshot",
            lambda i: CostSnapshotFactory(snapshot_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=i)),
        )


@override_settings(EXEMPT_VIEW_PERMISSIONS=[])
class ProviderPageTest(TestCase):
    def test_provider_contract_table_restricted(self):
        provider = ServiceProviderFactory()
        shown = ContractFactory(provider=provider, name="Shown")
        hidden = ContractFactory(provider=provider, name="Hidden")
        self.add_permissions("nautobot_contracts.view_serviceprovider")
        self.add_permissions("nautobot_contracts.view_contract", constraints={"pk": str(shown.pk)})
        content = self.client.get(provider.get_absolute_url()).content.decode()
        self.assertIn(shown.get_absolute_url(), content)
        self.assertNotIn(hidden.get_absolute_url(), content)
