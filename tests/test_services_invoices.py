"""services.invoices: the overdue rule (Open and due before the date), as SQL and in Python."""

import datetime

from nautobot.apps.testing import TestCase
from nautobot.users.models import User

from nautobot_contracts.models import Invoice
from nautobot_contracts.services import invoices
from tests import factories

D = datetime.date
AS_OF = D(2026, 3, 15)


class OverdueInvoicesTest(TestCase):
    """Hand-worked: due 2026-03-01 is 14 days overdue on 2026-03-15; due that day or later, or not Open, is not."""

    @classmethod
    def setUpTestData(cls):
        cls.contract = factories.ContractFactory()
        open_status = factories.status_for(Invoice, "Open")
        cls.late = factories.InvoiceFactory(contract=cls.contract, due_date=D(2026, 3, 1), status=open_status)
        cls.due_today = factories.InvoiceFactory(contract=cls.contract, due_date=AS_OF, status=open_status)
        cls.no_due_date = factories.InvoiceFactory(contract=cls.contract, due_date=None, status=open_status)
        cls.disputed = factories.InvoiceFactory(
            contract=cls.contract, due_date=D(2026, 2, 1), status=factories.status_for(Invoice, "Disputed")
        )
        cls.paid = factories.InvoiceFactory(
            contract=cls.contract,
            due_date=D(2026, 2, 1),
            invoice_date=D(2026, 1, 20),
            status=factories.status_for(Invoice, "Paid"),
        )

    def test_only_open_invoices_past_their_due_date(self):
        with self.assertNumQueries(1):
            rows = list(invoices.overdue_invoices(AS_OF).values_list("pk", "days_overdue"))
        self.assertEqual(rows, [(self.late.pk, 14)])

    def test_python_rule_agrees(self):
        got = {inv.pk: invoices.days_overdue(inv, AS_OF) for inv in Invoice.objects.select_related("status")}
        self.assertEqual(got[self.late.pk], 14)
        self.assertEqual(
            {pk for pk, days in got.items() if days},
            set(invoices.overdue_invoices(AS_OF).values_list("pk", flat=True)),
        )

    def test_restricted_to_the_user(self):
        user = User.objects.create_user(username="no-perms")
        self.assertFalse(invoices.overdue_invoices(AS_OF, user=user).exists())
        factories.grant(user, Invoice)
        user = User.objects.get(pk=user.pk)  # drop the cached permissions
        self.assertEqual(list(invoices.overdue_invoices(AS_OF, user=user).values_list("pk", flat=True)), [self.late.pk])
